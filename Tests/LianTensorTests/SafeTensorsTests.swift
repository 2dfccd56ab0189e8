import Foundation
import LianTensor
import LianTestSupport
import Testing

@Suite final class SafeTensorsTests {
    let directory: URL = {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("lian-safetensors-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }()
    deinit { try? FileManager.default.removeItem(at: directory) }

    @Test func roundTripEveryDType() throws {
        let values: [Float] = [0, 1, -2.5, 3.140625, 65504, -0.000061035156, 1e-8, 0.1]
        let t = Tensor(shape: [2, 4], values: values)
        var writer = SafeTensorsWriter(metadata: ["format": "pt", "by": "lian"])
        writer.add("f32", t)
        writer.add("f16", t, as: .f16)
        writer.add("bf16", t, as: .bf16)
        writer.add("f64", t, as: .f64)
        writer.add("i64", integers: [1, -2, 3, Int64.max], shape: [4], as: .i64)
        writer.add("i32", integers: [7, -8], shape: [2, 1], as: .i32)
        writer.add("u8", integers: [0, 255, 17], shape: [3], as: .u8)
        writer.add("empty", Tensor.zeros([0, 3]))
        let url = directory.appendingPathComponent("all.safetensors")
        try writer.write(to: url)

        let file = try SafeTensorsFile(url: url)
        #expect(file.metadata == ["format": "pt", "by": "lian"])
        #expect(Set(file.names) == ["f32", "f16", "bf16", "f64", "i64", "i32", "u8", "empty"])
        #expect(try file.tensor("f32").scalars == values)
        #expect(try file.tensor("f64").scalars == values)
        #expect(try file.tensor("f32").shape == [2, 4])
        #expect(try file.tensor("f16").scalars == values.map { Float(Float16($0)) })
        #expect(try file.tensor("bf16").scalars == [0, 1, -2.5, 3.140625, 65536, -0.00006103515625, 1.0011717677116394e-08, 0.10009765625])
        #expect(try file.integers("i64") == [1, -2, 3, Int64.max])
        #expect(try file.integers("i32") == [7, -8])
        #expect(try file.entry("i32").shape == [2, 1])
        #expect(try file.integers("u8") == [0, 255, 17])
        #expect(try file.tensor("empty").shape == [0, 3])
        // Data starts 8-byte aligned, so F32 tensors are used in place.
        let header = try Data(contentsOf: url).prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
        #expect(header % 8 == 0)
    }

    @Test func halfConversionsAreExact() {
        for bits in UInt16(0)...UInt16.max {
            let expected = Float(Float16(bitPattern: bits))
            let got = floatFromHalfBits(bits)
            if expected.isNaN { #expect(got.isNaN); continue }
            #expect(got == expected, "half \(bits): \(got) vs \(expected)")
            #expect(halfBitsFromFloat(got) == bits, "half \(bits) does not round-trip")
        }
        // Rounding to nearest even, overflow and subnormals, against Swift's Float16.
        for f in randomValues(20_000, seed: 9, low: -70_000, high: 70_000) + randomValues(20_000, seed: 10, low: -1e-4, high: 1e-4) {
            #expect(halfBitsFromFloat(f) == Float16(f).bitPattern, "\(f)")
        }
    }

    @Test func mutatingAMappedTensorLeavesTheFileAlone() throws {
        var writer = SafeTensorsWriter()
        writer.add("w", Tensor(shape: [3], values: [1, 2, 3]))
        let url = directory.appendingPathComponent("cow.safetensors")
        try writer.write(to: url)
        let file = try SafeTensorsFile(url: url)
        var t = try file.tensor("w")
        t.withUnsafeMutableBufferPointer { $0[0] = 42 }
        #expect(t.scalars == [42, 2, 3])
        #expect(try SafeTensorsFile(url: url).tensor("w").scalars == [1, 2, 3])
    }

    // MARK: corrupted files

    /// A valid file's bytes, to corrupt.
    func validFile() -> Data {
        var writer = SafeTensorsWriter()
        writer.add("a", Tensor(shape: [2, 2], values: [1, 2, 3, 4]))
        writer.add("b", Tensor(shape: [3], values: [5, 6, 7]))
        return writer.serialized()
    }

    /// A file made of a given header and data.
    func file(header: String, data: Data = Data(count: 16), lengthOverride: UInt64? = nil) -> Data {
        var out = Data()
        withUnsafeBytes(of: (lengthOverride ?? UInt64(header.utf8.count)).littleEndian) { out.append(contentsOf: $0) }
        out.append(Data(header.utf8))
        out.append(data)
        return out
    }

    func expectError(_ kind: SafeTensorsError.Kind, _ bytes: Data, _ label: String) {
        let url = directory.appendingPathComponent("\(label).safetensors")
        try? bytes.write(to: url)
        do {
            _ = try SafeTensorsFile(url: url)
            Issue.record("\(label): no error")
        } catch let error as SafeTensorsError {
            #expect(error.kind == kind, "\(label): \(error)")
            #expect(error.description.contains(url.path), "\(label): message does not name the file: \(error)")
        } catch {
            Issue.record("\(label): unexpected \(error)")
        }
    }

    @Test func corruptedFilesThrowTheRightError() {
        let valid = validFile()
        expectError(.truncatedHeader, Data([1, 2, 3]), "tiny")
        expectError(.headerLengthOutOfRange, file(header: "{}", lengthOverride: 1 << 40), "huge-length")
        expectError(.headerNotJSON, file(header: "{not json"), "not-json")
        expectError(.headerNotJSON, file(header: "[1, 2]"), "json-array")
        expectError(.offsetsOutOfRange, file(header: #"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,400]}}"#), "past-end")
        expectError(.offsetsOutOfRange, file(header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}}"#), "backwards")
        expectError(.sizeMismatch, file(header: #"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#), "wrong-size")
        expectError(.sizeMismatch, file(header: #"{"a":{"dtype":"F16","shape":[4],"data_offsets":[0,16]}}"#), "wrong-dtype-size")
        expectError(.unknownDType, file(header: #"{"a":{"dtype":"Q4","shape":[4],"data_offsets":[0,2]}}"#), "unknown-dtype")
        expectError(.badEntry, file(header: #"{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#), "negative-shape")
        expectError(.badEntry, file(header: #"{"a":{"dtype":"F32","shape":[1]}}"#), "no-offsets")
        expectError(.overlapping, file(header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#), "overlap")
        expectError(.offsetsOutOfRange, valid.prefix(valid.count - 5), "truncated-data")
        expectError(.headerLengthOutOfRange, valid.prefix(20), "truncated-header")
    }

    @Test func missingTensorNamesTheFileAndTheTensor() throws {
        let url = directory.appendingPathComponent("missing.safetensors")
        try validFile().write(to: url)
        let file = try SafeTensorsFile(url: url)
        #expect(throws: SafeTensorsError.self) { try file.tensor("nope") }
        do { _ = try file.tensor("nope") } catch let e as SafeTensorsError {
            #expect(e.kind == .missingTensor && e.description.contains("'nope'") && e.description.contains(url.path))
        }
        #expect(throws: SafeTensorsError.self) { try SafeTensorsFile(path: directory.appendingPathComponent("absent").path) }
    }

    /// Every safetensors file of the reference oracles: names, dtypes and shapes as an independent
    /// reading of the header gives them, and values as the raw little-endian bytes give them.
    @Test func readsEveryOracleFile() throws {
        guard let shared = SharedFolder.locate() else { return }
        let files = SharedFolder.files(under: "oracles/models", suffix: ".safetensors", in: shared)
        #expect(files.count >= 8, "expected the oracle model files under \(shared.path)")
        for url in files {
            let bytes = try Data(contentsOf: url)
            let n = Int(bytes.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
            let header = try JSONSerialization.jsonObject(with: bytes[8..<(8 + n)]) as! [String: Any]
            let file = try SafeTensorsFile(url: url)
            #expect(Set(file.names) == Set(header.keys.filter { $0 != "__metadata__" }), "\(url.lastPathComponent)")
            for (name, value) in header where name != "__metadata__" {
                let info = value as! [String: Any]
                let entry = try file.entry(name)
                #expect(entry.dtype.rawValue == info["dtype"] as? String, "\(name)")
                #expect(entry.shape == (info["shape"] as! [Int]), "\(name)")
                let offsets = info["data_offsets"] as! [Int]
                let raw = bytes[(8 + n + offsets[0])..<(8 + n + offsets[1])]
                switch entry.dtype {
                case .f32:
                    let expected = raw.withUnsafeBytes { p in (0..<entry.count).map { p.loadUnaligned(fromByteOffset: 4 * $0, as: Float.self) } }
                    let got = try file.tensor(name).scalars
                    #expect(got.elementsEqual(expected) { $0 == $1 || ($0.isNaN && $1.isNaN) }, "\(url.lastPathComponent): \(name) values")
                case .i64:
                    let expected = raw.withUnsafeBytes { p in (0..<entry.count).map { p.loadUnaligned(fromByteOffset: 8 * $0, as: Int64.self) } }
                    #expect(try file.integers(name) == expected, "\(name)")
                case .u8:
                    #expect(try file.integers(name) == raw.map { Int64($0) }, "\(name)")
                default:
                    Issue.record("unexpected dtype \(entry.dtype) in \(url.lastPathComponent)")
                }
            }
        }
    }
}
