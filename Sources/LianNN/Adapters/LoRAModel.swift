import Foundation
import LianKernels
import LianTensor

extension Module {
    /// Every module under this one with its dotted path ("" for this one), in a stable order.
    public func namedModules(prefix: String = "") -> [(path: String, module: any Module)] {
        var result: [(path: String, module: any Module)] = [(prefix, self)]
        for (name, child) in children {
            result += child.namedModules(prefix: prefix.isEmpty ? name : prefix + "." + name)
        }
        return result
    }

    /// Every linear layer with its path.
    public var linearLayers: [(path: String, layer: Linear)] {
        namedModules().compactMap { entry in (entry.module as? Linear).map { (entry.path, $0) } }
    }
}

extension LanguageModel {
    /// The decoder layer a path belongs to (`model.layers.3.…`, `transformer.h.3.…`), if any.
    static func layerIndex(of path: String) -> Int? {
        let parts = path.split(separator: ".")
        for (i, part) in parts.enumerated() where (part == "layers" || part == "h") && i + 1 < parts.count {
            if let n = Int(parts[i + 1]) { return n }
        }
        return nil
    }

    /// The linear layers `config` selects: the path ends with a target name (PEFT's rule: the
    /// whole path or its ending after a dot), within `layers` when given; "all-linear" is every
    /// linear layer but the output head.
    public func loraTargets(_ config: LoRAConfig) -> [(path: String, layer: Linear)] {
        let targets = LoRAConfig.expand(config.targetModules, for: configuration.modelType)
        // The output head is never adapted (as PEFT's all-linear): the fused head + loss reads its
        // weight directly.
        return linearLayers.filter { path, _ in
            if path == "lm_head" { return false }
            if let layers = config.layers, !layers.contains(Self.layerIndex(of: path) ?? -1) { return false }
            if targets.contains("all-linear") { return true }
            return targets.contains { path == $0 || path.hasSuffix("." + $0) }
        }
    }

    /// Attaches fresh adapters (A random from `seed`, B zero) to the layers `config` selects and
    /// freezes everything else. Throws when no layer matches.
    @discardableResult
    public func attachLoRA(_ config: LoRAConfig, seed: UInt64) throws -> [String] {
        try config.validate()
        let targets = loraTargets(config)
        guard !targets.isEmpty else {
            let names = Set(linearLayers.map { String($0.path.split(separator: ".").last!) }).sorted()
            throw ModelError(path: "LoRA target_modules", "\(config.targetModules) match no linear layer of this \(configuration.modelType) model; its layer names are \(names.joined(separator: ", "))")
        }
        setTrainable(false)
        var rng = SeededRandom(seed: seed)
        for (_, layer) in targets {
            layer.lora = LoRAAdapter(inputSize: layer.inputSize, outputSize: layer.outputSize, rank: config.rank,
                                     scale: config.scale, dropout: config.dropout, rng: &rng)
        }
        // Frozen weights get no gradients: buffers cached for tensors of their sizes (left by
        // initialization or loading) would never be reused, so they go back to the system.
        SystemMemory.releaseFreed()
        return targets.map(\.path)
    }

    /// Every adapter parameter with its path (`….q_proj.lora_A.weight`).
    public var loraParameters: [(path: String, parameter: Parameter)] {
        namedParameters().filter { $0.path.contains(".lora_A.") || $0.path.contains(".lora_B.") }
    }

    /// Folds every adapter into its base weight and removes the adapters; NF4 bases (adapted or
    /// not) become their dequantized Float32 values, so the result is a plain model.
    public func mergeLoRA() {
        for (_, layer) in linearLayers { layer.mergeAdapter(); layer.dequantize() }
    }

    /// Stores the weights of every linear layer but the output head in NF4 (QLoRA's base).
    public func quantizeLinearLayers(doubleQuantization: Bool = true) {
        for (path, layer) in linearLayers where path != "lm_head" { layer.quantize(doubleQuantization: doubleQuantization) }
        // Parameters loaded from a safetensors file may still read the file's memory map, whose
        // touched pages count as resident while it stays mapped: own copies let it go, so memory
        // really falls to the NF4 weights plus the rest.
        for (_, p) in namedParameters() {
            let trainable = p.isTrainable
            p.value = Tensor(shape: p.shape, values: p.value.scalars)
            p.isTrainable = trainable
        }
        // Hand the freed Float32 weights back to the system now (glibc keeps freed heap memory
        // resident otherwise, and the point of NF4 is a smaller resident model).
        SystemMemory.releaseFreed()
    }
}
