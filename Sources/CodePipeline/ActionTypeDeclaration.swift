#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// What an action type declares about its configuration, as `ListActionTypes` answers: which
/// properties it has and which of them are not secret. Only a property declared with
/// `"secret": false` counts as not secret; one without a `secret` field, or with anything but
/// `false`, is secret.
public struct ActionTypeDeclaration: Sendable, Equatable {
    /// The action type.
    public var id: ActionTypeID
    /// The properties it declares, by name.
    public var properties: Set<String>
    /// Those declared `"secret": false`.
    public var nonSecretProperties: Set<String>

    /// Creates a declaration.
    public init(id: ActionTypeID, properties: Set<String>, nonSecretProperties: Set<String>) {
        self.id = id
        self.properties = properties
        self.nonSecretProperties = nonSecretProperties.intersection(properties)
    }
}

/// One page of `ListActionTypes`, allowlisted: the types' ids and their properties' names and
/// `secret` flags; nothing else is read.
struct ActionTypesPage {
    var declarations: [ActionTypeDeclaration]
    var nextToken: String?

    /// The longest `nextToken` sent back (CodePipeline's are far shorter).
    static let longestNextToken = 2048

    static func decode(_ body: [UInt8]) throws(CodePipelineError) -> ActionTypesPage {
        let wire: Wire.ActionTypes
        do {
            wire = try JSONDecoder().decode(Wire.ActionTypes.self, from: Data(body))
        } catch {
            throw CodePipelineError(.malformedResponse, "the answer is not a list of action types")
        }
        let declarations = (wire.actionTypes ?? []).compactMap { type -> ActionTypeDeclaration? in
            guard let id = type.id?.projected else { return nil }
            let properties = (type.actionConfigurationProperties ?? []).compactMap { property in
                property.name.map { ($0, property.secret == false) }
            }
            return ActionTypeDeclaration(
                id: id, properties: Set(properties.map(\.0)), nonSecretProperties: Set(properties.filter(\.1).map(\.0)))
        }
        if let token = wire.nextToken, token.isEmpty || token.utf8.count > longestNextToken {
            throw CodePipelineError(.malformedResponse, "the list of action types has an unusable nextToken")
        }
        return ActionTypesPage(declarations: declarations, nextToken: wire.nextToken)
    }
}

extension Wire {
    struct ActionTypes: Decodable {
        var actionTypes: [ActionType]?
        var nextToken: String?
    }

    struct ActionType: Decodable {
        var id: ActionTypeIdentity?
        var actionConfigurationProperties: [Property]?
    }

    struct ActionTypeIdentity: Decodable {
        var category: String?
        var owner: String?
        var provider: String?
        var version: String?

        /// The id, if all four fields are there.
        var projected: ActionTypeID? {
            guard let category, let owner, let provider, let version else { return nil }
            return ActionTypeID(category: category, owner: owner, provider: provider, version: version)
        }
    }

    /// A declared property: its name and whether it is secret. A `secret` that is not a
    /// boolean decodes as nil, which counts as secret.
    struct Property: Decodable {
        var name: String?
        var secret: Bool?

        enum CodingKeys: String, CodingKey {
            case name, secret
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            name = try? container.decodeIfPresent(String.self, forKey: .name)
            secret = try? container.decodeIfPresent(Bool.self, forKey: .secret)
        }
    }
}
