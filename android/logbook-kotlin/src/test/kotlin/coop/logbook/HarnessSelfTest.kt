// Tests of the test harness itself (coop.logbook.testing.TestRunner). They need neither the
// Rust library nor the generated bindings, and show every supported shape of test.
package coop.logbook

import coop.logbook.testing.Test
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertTrue
import kotlinx.coroutines.async
import kotlinx.coroutines.delay
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout

class HarnessSelfTest : AutoCloseable {
    // A fresh instance per test: this list starts empty every time.
    private val events = mutableListOf<String>()

    @Test
    fun eachTestGetsAFreshInstance() {
        events += "ran"
        assertEquals(listOf("ran"), events)
    }

    @Test
    fun kotlinTestAssertionsWorkWithoutJUnit() {
        assertEquals(4, 2 + 2)
        val e = assertFailsWith<IllegalStateException> { error("boom") }
        assertEquals("boom", e.message)
    }

    @Test
    fun aTestMayCallRunBlockingItself() = runBlocking {
        val a = async { delay(5); 20 }
        val b = async { delay(5); 22 }
        assertEquals(42, a.await() + b.await())
    }

    @Test
    suspend fun aTestMayBeASuspendFunction() {
        delay(5)
        val value = withTimeout(1_000) { delay(1); "done" }
        assertEquals("done", value)
    }

    fun notATest() {
        throw AssertionError("functions without @Test must not run")
    }

    override fun close() {
        // Runs after each test; a place to delete a temporary directory.
        events.clear()
    }
}

object HarnessSelfTestObject {
    @Test
    fun anObjectMayHoldTests() {
        assertTrue(Thread.currentThread().name.startsWith("test-"))
    }
}

@Test
fun aTopLevelFunctionMayBeATest() {
    assertEquals("coop.logbook.testing.Test", Test::class.qualifiedName)
}
