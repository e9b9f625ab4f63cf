import Glibc

/// A value behind a pthread mutex, for test fakes shared across tasks. Same shape as
/// `Synchronization.Mutex.withLock`, but ThreadSanitizer understands pthread mutexes (it does not
/// see the futex inside `Mutex` on Linux), so `make sanitize` reports only real races.
public final class PThreadLocked<Value>: @unchecked Sendable {
    private var value: Value
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

    public init(_ value: Value) {
        self.value = value
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    public func withLock<R, E: Error>(_ body: (inout Value) throws(E) -> R) throws(E) -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}
