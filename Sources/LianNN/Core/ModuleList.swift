/// Modules numbered 0, 1, 2, ... (the `h.0`, `layers.1` parts of checkpoint paths).
public final class ModuleList<Element: Module>: Module {
    public let items: [Element]

    public init(_ items: [Element]) { self.items = items }

    public var children: [(name: String, module: any Module)] {
        items.enumerated().map { (String($0.offset), $0.element as any Module) }
    }
}
