/// Where a job sits: pipeline, stage, action and execution.
public struct PipelineContext: Sendable, Equatable {
    public var pipelineName: String?
    public var stageName: String?
    public var actionName: String?
    public var actionExecutionId: String?
    public var pipelineExecutionId: String?
    public var pipelineArn: String?

    /// Creates a context.
    public init(
        pipelineName: String?, stageName: String?, actionName: String?, actionExecutionId: String?,
        pipelineExecutionId: String?, pipelineArn: String?
    ) {
        self.pipelineName = pipelineName
        self.stageName = stageName
        self.actionName = actionName
        self.actionExecutionId = actionExecutionId
        self.pipelineExecutionId = pipelineExecutionId
        self.pipelineArn = pipelineArn
    }
}
