import CodePipeline

/// The names `--pass-env` refuses: the worker's identity and its own settings.
public enum JobEnvironmentRules {
    public static func refuses(_ name: String) -> Bool {
        JobEnvironment.refusedPrefixes.contains { name.hasPrefix($0) } || name.isEmpty || name.contains("=")
    }
}

/// The build's whole environment, made from nothing: never a copy of the worker's, so nothing
/// of the worker's identity reaches the build.
enum JobEnvironment {
    /// What the sidecar gives the build: its URL and the token file.
    struct Access {
        var port: Int
        var tokenFile: String
    }

    /// The prefixes `--pass-env` refuses: the worker's identity and its own settings.
    static let refusedPrefixes = ["AWS_", "JOBCREDS_"]

    /// The variables for one job's build.
    /// - Parameters:
    ///   - worker: the worker's environment (only `PATH`, `LANG` and the `pass` names are read).
    ///   - access: the sidecar's port and token file; nil for `--build-access none`.
    static func make(
        job: JobDetails, region: String, workspace: String, resultDirectory: String,
        access: WorkerSettings.BuildAccess, sidecar: Access?, pass: [String], worker: [String: String]
    ) -> [String: String] {
        var environment: [String: String] = [
            "PATH": worker["PATH"] ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "HOME": workspace, "TMPDIR": workspace + "/.tmp", "LANG": worker["LANG"] ?? "C.UTF-8",
            "AWS_REGION": region, "AWS_DEFAULT_REGION": region, "JOBCREDS_RESULT_DIR": resultDirectory,
            "CODEPIPELINE_JOB_ID": job.jobId,
        ]
        for name in pass {
            if let value = worker[name] { environment[name] = value }
        }
        let context = job.pipelineContext
        let optional: [(String, String?)] = [
            ("CODEPIPELINE_ACCOUNT_ID", job.accountId), ("CODEPIPELINE_PIPELINE_NAME", context?.pipelineName),
            ("CODEPIPELINE_STAGE_NAME", context?.stageName), ("CODEPIPELINE_ACTION_NAME", context?.actionName),
            ("CODEPIPELINE_ACTION_EXECUTION_ID", context?.actionExecutionId),
            ("CODEPIPELINE_PIPELINE_EXECUTION_ID", context?.pipelineExecutionId),
        ]
        for (name, value) in optional {
            if let value, !value.isEmpty { environment[name] = value }
        }
        if let sidecar {
            switch access {
            case .credentials:
                environment["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = "http://127.0.0.1:\(sidecar.port)/v1/credentials"
                environment["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"] = sidecar.tokenFile
            case .presign:
                environment["JOBCREDS_URL"] = "http://127.0.0.1:\(sidecar.port)"
                environment["JOBCREDS_TOKEN_FILE"] = sidecar.tokenFile
            case .none:
                break
            }
        }
        return environment
    }

    /// The token scopes of each access.
    static func scopes(_ access: WorkerSettings.BuildAccess) -> String {
        switch access {
        case .credentials: "credentials,artifacts"
        case .presign: "artifacts,download,upload"
        case .none: ""
        }
    }
}
