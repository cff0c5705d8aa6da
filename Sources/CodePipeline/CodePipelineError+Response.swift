import HTTPTransport

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The body of an AWS JSON 1.1 error answer.
private struct ErrorBody: Decodable {
    var __type: String?
    var message: String?
    var Message: String?
}

/// AWS JSON 1.1 error answers as `CodePipelineError`s.
extension CodePipelineError {
    /// Codes whose upstream message helps an operator and echoes no request input.
    private static let identityCodes: Set<String> = [
        "AccessDeniedException", "AccessDenied", "UnrecognizedClientException", "InvalidSignatureException",
        "SignatureDoesNotMatch", "ExpiredTokenException", "IncompleteSignature", "MissingAuthenticationToken",
        "InvalidClientTokenId", "NotAuthorized",
    ]

    /// Decodes `response` (not 200) into an error; `secrets` are removed from any upstream text.
    static func decode(
        _ response: HTTPResponse, operation: CodePipelineOperation, secrets: [String]
    ) -> CodePipelineError {
        let body = try? JSONDecoder().decode(ErrorBody.self, from: Data(response.body))
        let code = body?.__type.map(errorCode) ?? ""
        let status = response.status
        let requestId = response.header("x-amzn-RequestId")
        func error(_ kind: CodePipelineError.Code, _ message: String) -> CodePipelineError {
            CodePipelineError(
                kind, message, upstreamCode: code.isEmpty ? nil : code, httpStatus: status, requestId: requestId)
        }
        switch code {
        case "JobNotFoundException":
            return error(.jobNotFound, "CodePipeline does not know this job (it ended, or the id or region is wrong)")
        case "InvalidJobException":
            return error(.invalidJob, "CodePipeline says the job is not in a state to be worked on (it has ended)")
        case "InvalidNonceException":
            return error(.invalidNonce, "CodePipeline refused the nonce (another worker has taken the job)")
        case "InvalidJobStateException":
            return error(.invalidJobState, "CodePipeline says the job is not in progress (it has ended or timed out)")
        case "OutputVariablesSizeExceededException":
            return error(.outputVariablesTooLarge, "CodePipeline refused the output variables as too large")
        case "ActionTypeNotFoundException":
            return error(
                .actionTypeNotFound, "CodePipeline knows no such action type (category, owner, provider and version)")
        case "InvalidClientTokenException":
            return error(.clientTokenRejected, "CodePipeline rejected the client token for this third-party job")
        case "ValidationException", "InvalidParameterException", "SerializationException":
            return error(.invalidRequest, "CodePipeline rejected the request as invalid (\(code))")
        case "Throttling", "ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded",
            "ProvisionedThroughputExceededException":
            return error(.throttled, "CodePipeline throttled the call (\(code))")
        case _ where identityCodes.contains(code) || status == 401 || status == 403:
            let detail = (body?.message ?? body?.Message).map { " — " + clean($0, removing: secrets) } ?? ""
            return error(
                .accessDenied,
                "CodePipeline refused the worker identity (\(code.isEmpty ? "HTTP \(status)" : code))\(detail); "
                    + "the identity needs codepipeline:\(operation.rawValue)")
        case _ where status == 429:
            return error(.throttled, "CodePipeline throttled the call (HTTP 429)")
        case _ where [500, 502, 503, 504].contains(status):
            return error(.unavailable, "CodePipeline is unavailable (HTTP \(status)\(code.isEmpty ? "" : ", \(code)"))")
        default:
            return error(
                .unknown, "CodePipeline answered HTTP \(status)\(code.isEmpty ? "" : " (\(code))")")
        }
    }

    /// `com.amazonaws.codepipeline#JobNotFoundException` and `JobNotFoundException:http://…`
    /// both become `JobNotFoundException`; anything but letters and digits is dropped.
    static func errorCode(_ type: String) -> String {
        var code = Substring(type)
        if let hash = code.lastIndex(of: "#") { code = code[code.index(after: hash)...] }
        if let colon = code.firstIndex(of: ":") { code = code[..<colon] }
        return String(code.filter { $0.isASCII && ($0.isLetter || $0.isNumber) }.prefix(64))
    }

    /// Upstream text made safe for a log: the secrets removed, printable ASCII only, 300 characters.
    static func clean(_ text: String, removing secrets: [String]) -> String {
        var cleaned = text
        for secret in secrets where !secret.isEmpty {
            cleaned = cleaned.replacing(secret, with: "(redacted)")
        }
        let printable = cleaned.unicodeScalars.map {
            $0.isASCII && $0.value >= 0x20 && $0.value < 0x7f ? Character($0) : " "
        }
        let shortened = String(printable.prefix(300))
        return shortened.count < printable.count ? shortened + "…" : shortened
    }
}
