#if canImport(Glibc)
    import Glibc
#endif

/// Runs libarchive calls under the `C.UTF-8` locale, on this thread only (`uselocale`).
///
/// libarchive converts names between an entry's UTF-8 and the locale's multibyte form; under the
/// C locale a non-ASCII name or link target fails that conversion (silently, for a zip writer's
/// link target). Names here are UTF-8 bytes throughout, so the conversion must be the identity.
enum UTF8Locale {
    private nonisolated(unsafe) static let locale: locale_t? = newlocale(LC_CTYPE_MASK, "C.UTF-8", nil)

    static func run<T, Failure: Error>(_ body: () throws(Failure) -> T) throws(Failure) -> T {
        guard let locale else { return try body() }
        let previous = uselocale(locale)
        defer { uselocale(previous) }
        return try body()
    }
}
