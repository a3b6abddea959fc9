// Pure Kotlin/JVM library: the generated uniffi bindings (package coop.logbook.ffi) plus the
// idiomatic wrapper and presentation logic (src/main/kotlin). It runs on a desktop JVM, so
// its tests exercise the real Rust library (target/<profile>/liblogbook_ffi.so) through JNA.
//
// The generated bindings are compiled here and only here; :logbook-android reuses this
// module instead of compiling them a second time (two copies of coop.logbook.ffi would
// clash in the app).
//
// Tests use the small harness in src/test/kotlin/coop/logbook/testing/TestRunner.kt (not
// JUnit): `./gradlew :logbook-kotlin:harnessTest` here, scripts/test-kotlin.sh without Gradle.
plugins {
    alias(libs.plugins.kotlin.jvm)
    `java-library`
}

val repoRoot: File = rootDir.parentFile
val cargoTargetDir = rootProject.extra["cargoTargetDir"] as File
val generatedBindings = rootProject.extra["generatedKotlinBindings"] as File

kotlin {
    jvmToolchain(17)
    sourceSets["main"].kotlin.srcDir(generatedBindings)
}

dependencies {
    api(libs.jna)                       // desktop JNA jar; :logbook-android swaps in the @aar
    api(libs.kotlinx.coroutines.core)   // uniffi async functions are `suspend` and need it
    testImplementation(libs.kotlin.test)
}

// Regenerate the bindings before compiling (cargo build --workspace + uniffi-bindgen).
// Disable with -Plogbook.generateBindings=false when you run scripts/bindings.sh yourself.
val generateBindings by tasks.registering(Exec::class) {
    group = "build"
    description = "Runs scripts/bindings.sh kotlin"
    workingDir = repoRoot
    commandLine("bash", "scripts/bindings.sh", "kotlin")
    onlyIf { (findProperty("logbook.generateBindings") ?: "true") != "false" }
}
tasks.named("compileKotlin") { dependsOn(generateBindings) }

val harnessTest by tasks.registering(JavaExec::class) {
    group = "verification"
    description = "Runs the JVM tests with coop.logbook.testing.TestRunner"
    val test = sourceSets["test"]
    dependsOn(tasks.named("testClasses"))
    classpath = test.runtimeClasspath
    mainClass.set("coop.logbook.testing.TestRunner")
    args(test.output.classesDirs.files.map { it.absolutePath })
    systemProperty("jna.library.path", cargoTargetDir.resolve("debug").absolutePath)
}
tasks.named("check") { dependsOn(harnessTest) }
