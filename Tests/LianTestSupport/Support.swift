import LianTensor
