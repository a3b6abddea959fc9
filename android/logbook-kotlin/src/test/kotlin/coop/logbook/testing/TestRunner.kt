// A tiny test runner for the JVM tests of logbook-kotlin.
//
// Why not JUnit: the machines that run scripts/test-kotlin.sh only have the Kotlin
// distribution from npm (kotlin-stdlib, kotlin-test, kotlinx-coroutines) and JNA. Its
// kotlin-test.jar has the assertions (assertEquals, assertFailsWith, ...) but no
// `kotlin.test.Test` annotation: on the JVM that is a typealias for org.junit.Test, which
// lives in JUnit. So tests are marked with `coop.logbook.testing.Test` below.
//
// Conventions (see bindings/README.md):
//   - Mark a test with `@Test` from `coop.logbook.testing` (import coop.logbook.testing.Test).
//   - A test is a public function with no parameters, either a member of a top-level class
//     with a no-argument constructor (a fresh instance per test), a member of an `object`,
//     or a top-level function. Nested/inner classes are not scanned.
//   - It may be `suspend` (run inside runBlocking) or call runBlocking itself.
//   - A test passes if it returns, fails if it throws (kotlin.test assertions throw
//     AssertionError) or runs longer than the timeout (logbook.test.timeout seconds,
//     default 120).
//   - If the test class implements AutoCloseable, close() runs after each test, pass or fail.
//   - Tests run one after another in one JVM, in class then function-name order. They share
//     the process (and the Rust library's globals): use a fresh temporary directory per test.
//
// Usage: java -cp <classes>:<libs> coop.logbook.testing.TestRunner <classes dir or jar>...
//   -Dlogbook.test.filter=text   run only tests whose "Class.function" name contains text
//   -Dlogbook.test.timeout=secs  per-test timeout
// Prints "PASS name" / "FAIL name: message" per test, then "N passed, N failed".
// Exit code 0 only if at least one test ran and none failed.
package coop.logbook.testing

import java.io.File
import java.lang.reflect.InvocationTargetException
import java.lang.reflect.Method
import java.lang.reflect.Modifier
import java.util.concurrent.TimeUnit
import java.util.zip.ZipFile
import kotlin.coroutines.Continuation
import kotlin.coroutines.intrinsics.suspendCoroutineUninterceptedOrReturn
import kotlin.system.exitProcess
import kotlinx.coroutines.runBlocking

/** Marks a test function for [TestRunner]. */
@Target(AnnotationTarget.FUNCTION)
@Retention(AnnotationRetention.RUNTIME)
annotation class Test

private const val ANNOTATION_DESCRIPTOR = "Lcoop/logbook/testing/Test;"

private class TestCase(val name: String, val owner: Class<*>, val method: Method)

object TestRunner {
    @JvmStatic
    fun main(args: Array<String>) {
        if (args.isEmpty()) {
            System.err.println("usage: TestRunner <classes dir or jar>...")
            exitProcess(2)
        }
        val filter = System.getProperty("logbook.test.filter")?.takeIf { it.isNotBlank() }
        val timeoutSeconds = System.getProperty("logbook.test.timeout")?.toLongOrNull() ?: 120L

        val tests = discover(args.map(::File)).filter { filter == null || it.name.contains(filter) }
        var passed = 0
        var failed = 0
        for (test in tests) {
            val error = runIsolated(test, timeoutSeconds)
            if (error == null) {
                passed++
                println("PASS ${test.name}")
            } else {
                failed++
                println("FAIL ${test.name}: ${describe(error)}")
                printTrace(error)
            }
            System.out.flush()
        }
        if (passed + failed == 0) {
            println("no tests found" + (filter?.let { " matching '$it'" } ?: "") +
                " (mark test functions with @coop.logbook.testing.Test)")
        }
        println("$passed passed, $failed failed")
        System.out.flush()
        // exitProcess also ends threads a test may have left behind (tokio, coroutines).
        exitProcess(if (failed == 0 && passed > 0) 0 else 1)
    }

    /** Finds @Test functions in the .class files under [roots], without loading every class. */
    private fun discover(roots: List<File>): List<TestCase> {
        val loader = TestRunner::class.java.classLoader
        val names = sortedSetOf<String>()
        for (root in roots) {
            if (root.isDirectory) {
                root.walkTopDown().filter { it.isFile && it.name.endsWith(".class") }.forEach { f ->
                    if (mentionsAnnotation(f.readBytes())) {
                        names += f.relativeTo(root).path.removeSuffix(".class").replace(File.separatorChar, '.')
                    }
                }
            } else if (root.isFile) {
                ZipFile(root).use { zip ->
                    for (entry in zip.entries()) {
                        if (!entry.name.endsWith(".class") || entry.name.startsWith("META-INF")) continue
                        val bytes = zip.getInputStream(entry).use { it.readBytes() }
                        if (mentionsAnnotation(bytes)) names += entry.name.removeSuffix(".class").replace('/', '.')
                    }
                }
            } else {
                System.err.println("TestRunner: no such classes dir or jar: $root")
            }
        }
        val tests = mutableListOf<TestCase>()
        for (className in names) {
            if ('$' in className) continue // nested, inner, lambda or companion classes
            val cls = try {
                Class.forName(className, false, loader)
            } catch (e: Throwable) {
                System.err.println("TestRunner: cannot load $className: $e")
                continue
            }
            val methods = cls.declaredMethods
                .filter { it.isAnnotationPresent(Test::class.java) }
                .sortedBy { it.name }
            for (m in methods) tests += TestCase("${cls.simpleName}.${m.name}", cls, m)
        }
        return tests
    }

    private fun mentionsAnnotation(bytes: ByteArray): Boolean =
        String(bytes, Charsets.ISO_8859_1).contains(ANNOTATION_DESCRIPTOR)

    /** Runs one test on its own thread; returns what it threw, or null if it passed. */
    private fun runIsolated(test: TestCase, timeoutSeconds: Long): Throwable? {
        var error: Throwable? = null
        val thread = Thread({
            error = try {
                runOne(test)
                null
            } catch (t: Throwable) {
                unwrap(t)
            }
        }, "test-${test.name}")
        thread.isDaemon = true
        thread.start()
        thread.join(TimeUnit.SECONDS.toMillis(timeoutSeconds))
        if (thread.isAlive) {
            val timeout = AssertionError("timed out after ${timeoutSeconds}s (still running, left behind)")
            timeout.stackTrace = thread.stackTrace // where it hangs
            thread.interrupt()
            return timeout
        }
        return error
    }

    private fun runOne(test: TestCase) {
        val m = test.method
        if (!Modifier.isPublic(m.modifiers)) throw AssertionError("test function must be public")
        val isStatic = Modifier.isStatic(m.modifiers)
        val instance: Any? = when {
            isStatic -> null
            else -> objectInstance(test.owner) ?: newInstance(test.owner)
        }
        try {
            val params = m.parameterTypes
            when {
                params.isEmpty() -> m.invoke(instance)
                params.size == 1 && params[0] == Continuation::class.java ->
                    runBlocking { callSuspend(m, instance) }
                else -> throw AssertionError("test function must take no parameters")
            }
        } finally {
            if (instance is AutoCloseable && objectInstance(test.owner) == null) instance.close()
        }
    }

    private fun objectInstance(cls: Class<*>): Any? =
        try {
            val field = cls.getDeclaredField("INSTANCE")
            if (Modifier.isStatic(field.modifiers) && field.type == cls) field.get(null) else null
        } catch (_: NoSuchFieldException) {
            null
        }

    private fun newInstance(cls: Class<*>): Any {
        val ctor = try {
            cls.getDeclaredConstructor()
        } catch (_: NoSuchMethodException) {
            throw AssertionError("test class ${cls.name} needs a constructor without parameters")
        }
        return ctor.newInstance()
    }

    /** Calls a compiled `suspend fun` (whose last JVM parameter is the continuation). */
    private suspend fun callSuspend(m: Method, instance: Any?): Any? =
        suspendCoroutineUninterceptedOrReturn { cont -> m.invoke(instance, cont) }

    private fun unwrap(t: Throwable): Throwable {
        var e = t
        while (e is InvocationTargetException && e.targetException != null) e = e.targetException
        return e
    }

    private fun describe(e: Throwable): String {
        val msg = e.message?.lineSequence()?.firstOrNull()?.takeIf { it.isNotBlank() }
        return when {
            e is AssertionError && msg != null -> msg
            msg != null -> "${e.javaClass.name}: $msg"
            else -> e.javaClass.name
        }
    }

    /** A short trace: the frames up to and including the test class, indented. */
    private fun printTrace(e: Throwable) {
        val frames = e.stackTrace
        val last = frames.indexOfLast { it.className.startsWith("coop.logbook") && !it.className.startsWith("coop.logbook.testing.TestRunner") }
        val shown = if (last >= 0) frames.take(last + 1).takeLast(12) else frames.take(8).toList()
        for (f in shown) println("    at $f")
        e.cause?.let { println("    caused by ${it.javaClass.name}: ${it.message}") }
    }
}
