// Intentionally empty: LianKernelsC is a header of static inline helpers (see include/).
