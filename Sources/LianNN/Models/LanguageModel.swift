import Foundation
import LianKernels
import LianTensor

/// What a forward pass returns.
public struct ModelOutput {
    /// [B, T, V]
    public var logits: Tensor
    /// As transformers' `output_hidden_states`: the embeddings, the output of each block but the
    /// last, and the last block's output after the final norm. Empty unless asked for.
    public var hiddenStates: [Tensor]
}

/// The last hidden states (after the final norm) and the output head's weight [V, C]; logits are
/// `final · headᵀ`.
public struct ModelFeatures {
    public var final: Tensor
    public var hiddenStates: [Tensor]
    public var head: Tensor
}

/// A causal language model: token ids [B, T] → next-token logits [B, T, V].
public protocol LanguageModel: Module {
    var vocabularySize: Int { get }
    /// The architecture and its settings.
    var configuration: ModelConfiguration { get }
    /// The longest sequence the model accepts.
    var contextLength: Int { get }
    /// The Hugging Face `config.json` for this model.
    func configJSON() throws -> Data
    /// The final hidden states for `ids` and the head that turns them into logits; with a
    /// `dropout` source the pass is a training pass (dropout on, as the configuration sets it),
    /// without one an evaluation pass.
    func features(_ ids: IndexTensor, collectHiddenStates: Bool, dropout: DropoutSource?) -> ModelFeatures
}

extension LanguageModel {
    public func callAsFunction(_ ids: IndexTensor) -> Tensor { forward(ids, collectHiddenStates: false, dropout: nil).logits }

    /// Logits for `ids` (and, when asked, the hidden states); a training pass when `dropout` is given.
    public func forward(_ ids: IndexTensor, collectHiddenStates: Bool = false, dropout: DropoutSource? = nil) -> ModelOutput {
        let f = features(ids, collectHiddenStates: collectHiddenStates, dropout: dropout)
        return ModelOutput(logits: f.final.linear(weight: f.head), hiddenStates: f.hiddenStates)   // (B, T, V)
    }

    /// Mean cross-entropy of the next-token predictions against `targets` (−100 ignored); a
    /// training pass when `dropout` is given. The head and the loss run fused: the [B, T, V]
    /// logits are kept for the backward pass up to 64 MiB and beyond that exist only a chunk of
    /// rows at a time (see `Tensor.linearCrossEntropy`).
    public func loss(_ ids: IndexTensor, targets: IndexTensor, dropout: DropoutSource? = nil) -> Tensor {
        let f = features(ids, collectHiddenStates: false, dropout: dropout)
        return Tensor.linearCrossEntropy(hidden: f.final, weight: f.head, targets: targets)
    }

    /// Checks ids before a forward pass: shape [B, T], T within the context, ids within the vocabulary.
    func validate(_ ids: IndexTensor) {
        precondition(ids.shape.count == 2, "[model] input ids must be [batch, time], got \(ids.shape)")
        precondition(ids.shape[1] <= contextLength, "[model] sequence of \(ids.shape[1]) tokens exceeds the context length \(contextLength)")
    }
}

/// GPT-2 style initialization, seeded: weights and embeddings Normal(0, std), the projections
/// that write into the residual stream Normal(0, std/√(2·layers)), biases 0, norm weights 1.
func initializeGPT2Style(_ parameters: [(path: String, parameter: Parameter)], std: Float, layers: Int,
                         isResidualProjection: (String) -> Bool, isNormWeight: (String) -> Bool, seed: UInt64) {
    var rng = SeededRandom(seed: seed)
    for (path, p) in parameters {
        let trainable = p.isTrainable
        if path.hasSuffix(".bias") {
            p.value = Tensor.zeros(p.shape)
        } else if isNormWeight(path) {
            p.value = Tensor.ones(p.shape)
        } else {
            let s = isResidualProjection(path) ? std / (2 * Float(layers)).squareRoot() : std
            p.value = Tensor.randomNormal(p.shape, std: s, rng: &rng)
        }
        p.value.requiresGrad = trainable
    }
}
