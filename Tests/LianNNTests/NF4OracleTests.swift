import Foundation
import LianKernels
import LianTensor
import LianTestSupport
import Testing

/// NF4 against bitsandbytes: for every folder under ../shared/oracles/models with a case holding
/// `weight` and `plain.packed`, Lian's codes, packed bytes and absmax must equal bitsandbytes'
/// exactly (plain and double-quantized), and the dequantized values must match.
@Suite struct NF4OracleTests {
    struct Meta: Decodable { let blocksize: Int; let second_level_blocksize: Int; let shape: [Int] }

    static var folders: [URL] {
        guard let shared = SharedFolder.locate() else { return [] }
        let root = shared.appendingPathComponent("oracles/models")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        return names.sorted().map { root.appendingPathComponent($0) }.filter { folder in
            guard let f = try? SafeTensorsFile(url: folder.appendingPathComponent("case.safetensors")) else { return false }
            return f.names.contains("plain.packed") && f.names.contains("weight")
        }
    }

    @Test func oracleIsPresent() {
        if SharedFolder.locate() != nil { #expect(!Self.folders.isEmpty, "expected oracles/models/nf4_64") }
    }

    @Test func levelsAndDynamicMapEqualBitsandbytes() throws {
        for folder in Self.folders {
            let f = try SafeTensorsFile(url: folder.appendingPathComponent("case.safetensors"))
            #expect(try f.tensor("nf4_code").scalars == NF4.levels)
            if f.names.contains("double.code2") { #expect(try f.tensor("double.code2").scalars == NF4.dynamicMap) }
        }
    }

    func bytes(_ f: SafeTensorsFile, _ name: String) throws -> [UInt8] { Array(try f.rawBytes(name)) }

    @Test(arguments: folders) func quantizationEqualsBitsandbytes(folder: URL) throws {
        let meta = try JSONDecoder().decode(Meta.self, from: Data(contentsOf: folder.appendingPathComponent("meta.json")))
        let f = try SafeTensorsFile(url: folder.appendingPathComponent("case.safetensors"))
        let weight = try f.tensor("weight")
        #expect(weight.shape == meta.shape)
        let (rows, columns) = (weight.shape[0], weight.count / weight.shape[0])

        let plain = weight.withUnsafeBufferPointer { NF4Matrix(quantizing: $0, rows: rows, columns: columns, blockSize: meta.blocksize, doubleQuantization: false) }
        let expectedPacked = try bytes(f, "plain.packed")
        let differing = zip(plain.packed, expectedPacked).filter { $0 != $1 }.count
        #expect(plain.packed.count == expectedPacked.count && differing == 0, "plain: \(differing) of \(expectedPacked.count) bytes differ")
        #expect(plain.absmax == (try f.tensor("plain.absmax").scalars), "plain absmax")
        #expect(plain.dequantized() == (try f.tensor("plain.dequantized").scalars), "plain dequantized")

        guard f.names.contains("double.packed") else { return }
        let double = weight.withUnsafeBufferPointer {
            NF4Matrix(quantizing: $0, rows: rows, columns: columns, blockSize: meta.blocksize, doubleQuantization: true, groupSize: meta.second_level_blocksize)
        }
        #expect(double.packed == (try bytes(f, "double.packed")), "double-quantized packed codes")
        guard case let .double(codes, groupScales, offset, _) = double.scales else { Issue.record("no double quantization"); return }
        #expect(offset == (try f.tensor("double.offset").scalars[0]), "offset \(offset)")
        #expect(groupScales == (try f.tensor("double.absmax2").scalars), "second-level absmax")
        let expectedCodes = try bytes(f, "double.absmax_quantized")
        #expect(codes == expectedCodes, "8-bit absmax codes: \(zip(codes, expectedCodes).filter { $0 != $1 }.count) differ")
        let (ok, worst) = compare(double.dequantized(), try f.tensor("double.dequantized").scalars, atol: 0, rtol: 0)
        #expect(ok, "double dequantized: \(worst)")
        // 4-bit codes + 8-bit scales: about 4.127 bits per weight.
        #expect(Double(double.storageBytes * 8) / Double(weight.count) < 4.2)
    }
}
