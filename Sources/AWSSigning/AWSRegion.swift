/// Facts about region names that endpoints are built from.
public enum AWSRegion {
    /// The DNS suffix of `region`'s partition: `amazonaws.com.cn` for the China regions,
    /// `amazonaws.com` otherwise.
    public static func dnsSuffix(_ region: String) -> String {
        region.hasPrefix("cn-") ? "amazonaws.com.cn" : "amazonaws.com"
    }
}
