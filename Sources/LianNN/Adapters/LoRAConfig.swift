import Foundation

/// Which linear layers get LoRA adapters and how, with the keys of PEFT's `adapter_config.json`.
public struct LoRAConfig: Equatable, Sendable {
    /// r
    public var rank: Int
    /// lora_alpha: the update is scaled by alpha / r (alpha / √r with rsLoRA).
    public var alpha: Float
    /// lora_dropout, on the adapter's input in training.
    public var dropout: Float = 0
    /// Layer names (the last path component: q_proj, v_proj, c_attn, ...), or ["all-linear"]
    /// for every linear layer except the output head.
    public var targetModules: [String]
    /// layers_to_transform: only these decoder layers (nil: all).
    public var layers: [Int]?
    /// use_rslora: scale by alpha / √r (rank-stabilized LoRA).
    public var rankStabilized = false

    public init(rank: Int, alpha: Float, dropout: Float = 0, targetModules: [String], layers: [Int]? = nil, rankStabilized: Bool = false) {
        self.rank = rank; self.alpha = alpha; self.dropout = dropout; self.targetModules = targetModules
        self.layers = layers; self.rankStabilized = rankStabilized
    }

    public var scale: Float { rankStabilized ? alpha / Float(rank).squareRoot() : alpha / Float(rank) }

    /// Named groups a user can give instead of layer names.
    public static func expand(_ names: [String], for modelType: String) -> [String] {
        names.flatMap { name -> [String] in
            switch (name, modelType) {
            case ("attention", "llama"): ["q_proj", "k_proj", "v_proj", "o_proj"]
            case ("mlp", "llama"): ["gate_proj", "up_proj", "down_proj"]
            case ("attention", "gpt2"): ["c_attn", "attn.c_proj"]
            case ("mlp", "gpt2"): ["c_fc", "mlp.c_proj"]
            default: [name]
            }
        }
    }

    public func validate(path: String = "LoRA configuration") throws {
        var v = ConfigValidator(path: path)
        v.require(rank > 0, "r must be positive (got \(rank))")
        v.require(alpha > 0, "lora_alpha must be positive (got \(alpha))")
        v.require(dropout >= 0 && dropout < 1, "lora_dropout must be in [0, 1) (got \(dropout))")
        v.require(!targetModules.isEmpty, "target_modules must name at least one layer")
        try v.check()
    }

    /// PEFT's adapter_config.json for a `modelType` model: group names expanded to layer names,
    /// "all-linear" as the plain string PEFT expects. GPT-2's Conv1D weights are [in, out], which
    /// PEFT records as fan_in_fan_out.
    public func peftJSON(modelType: String, baseModel: String?) throws -> Data {
        let expanded = Self.expand(targetModules, for: modelType)
        let targets: Any = expanded.contains("all-linear") ? "all-linear" : expanded
        var object: [String: Any] = [
            "peft_type": "LORA", "task_type": "CAUSAL_LM", "r": rank, "lora_alpha": Double(alpha),
            "lora_dropout": Double(dropout), "target_modules": targets, "bias": "none",
            "fan_in_fan_out": modelType == "gpt2", "use_rslora": rankStabilized, "init_lora_weights": true,
            "inference_mode": true, "modules_to_save": NSNull(), "use_dora": false,
            "rank_pattern": [String: Any](), "alpha_pattern": [String: Any](),
        ]
        object["layers_to_transform"] = layers ?? NSNull()
        object["base_model_name_or_path"] = baseModel ?? NSNull()
        return try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
    }

    /// Reads PEFT's adapter_config.json, refusing what Lian does not implement (DoRA, per-layer
    /// ranks, trained biases, extra saved modules) rather than mis-computing it.
    public static func fromPEFT(_ data: Data, path: String) throws -> LoRAConfig {
        guard let o = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw ModelError(path: path, "adapter_config.json is not a JSON object")
        }
        guard (o["peft_type"] as? String) == "LORA" else {
            throw ModelError(path: path, "peft_type '\(o["peft_type"] as? String ?? "(missing)")' is not LORA")
        }
        guard let r = o["r"] as? Int, let alpha = (o["lora_alpha"] as? NSNumber)?.floatValue else {
            throw ModelError(path: path, "adapter_config.json needs integer 'r' and numeric 'lora_alpha'")
        }
        var targets: [String]
        if let list = o["target_modules"] as? [String] { targets = list } else if let one = o["target_modules"] as? String {
            targets = [one]
        } else {
            throw ModelError(path: path, "adapter_config.json has no target_modules")
        }
        targets = targets.map { $0 == "all-linear" ? "all-linear" : $0 }
        var layers: [Int]?
        if let list = o["layers_to_transform"] as? [Int] { layers = list } else if let one = o["layers_to_transform"] as? Int { layers = [one] }
        if o["use_dora"] as? Bool == true { throw ModelError(path: path, "DoRA adapters (use_dora) are not supported") }
        if let p = o["rank_pattern"] as? [String: Any], !p.isEmpty { throw ModelError(path: path, "per-layer ranks (rank_pattern) are not supported") }
        if let p = o["alpha_pattern"] as? [String: Any], !p.isEmpty { throw ModelError(path: path, "per-layer alphas (alpha_pattern) are not supported") }
        if let bias = o["bias"] as? String, bias != "none" { throw ModelError(path: path, "bias '\(bias)' is not supported (only 'none')") }
        if let m = o["modules_to_save"] as? [Any], !m.isEmpty { throw ModelError(path: path, "modules_to_save is not supported") }
        let config = LoRAConfig(rank: r, alpha: alpha, dropout: (o["lora_dropout"] as? NSNumber)?.floatValue ?? 0,
                                targetModules: targets, layers: layers, rankStabilized: o["use_rslora"] as? Bool ?? false)
        try config.validate(path: path)
        return config
    }
}
