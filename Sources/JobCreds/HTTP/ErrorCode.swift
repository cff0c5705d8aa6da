/// Every `code` an error body can carry: a refusal's, or one of the two answers that refuse
/// nothing (a readiness probe before credentials, and the fail-closed audit answer).
public enum ErrorCode: Sendable, Hashable, CaseIterable {
    /// The request was refused.
    case refused(DenialCode)
    /// 503 on `/readyz`: nothing is served yet.
    case notReady
    /// 503: the audit line could not be written, so nothing is handed out.
    case auditUnavailable

    /// The code as written in the body.
    public var rawValue: String {
        switch self {
        case .refused(let denial): denial.rawValue
        case .notReady: "NotReady"
        case .auditUnavailable: "AuditUnavailable"
        }
    }

    public static var allCases: [ErrorCode] {
        DenialCode.allCases.map(ErrorCode.refused) + [.notReady, .auditUnavailable]
    }
}
