// Android library that ships the Rust core to the app:
//   - the generated bindings and the wrapper, by depending on :logbook-kotlin (compiled once
//     there, from <cargo target dir>/bindings/kotlin),
//   - JNA as an Android archive (net.java.dev.jna:jna:5.x@aar: it carries libjnidispatch.so
//     for each ABI, which the desktop jar does not),
//   - liblogbook_ffi.so for each ABI in src/main/jniLibs/<abi>/, built by
//     scripts/build-android.sh (cargo ndk -t arm64-v8a -t armeabi-v7a -t x86_64 ...).
plugins {
    alias(libs.plugins.android.library)
    alias(libs.plugins.kotlin.android)
}

val repoRoot: File = rootDir.parentFile
val abis = listOf("arm64-v8a", "armeabi-v7a", "x86_64")

android {
    namespace = "coop.logbook.android"
    compileSdk = 35

    defaultConfig {
        minSdk = 26
        consumerProguardFiles("consumer-rules.pro")
        ndk { abiFilters += abis }
    }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }

    // src/main/jniLibs/<abi>/liblogbook_ffi.so is the default location; stated for clarity.
    sourceSets["main"].jniLibs.srcDir("src/main/jniLibs")
}

kotlin { jvmToolchain(17) }

dependencies {
    api(project(":logbook-kotlin")) {
        exclude(group = "net.java.dev.jna", module = "jna")
    }
    api("net.java.dev.jna:jna:${libs.versions.jna.get()}@aar")
    implementation(libs.kotlinx.coroutines.android)
}

// Cross-compile the Rust library for every ABI before packaging (needs cargo-ndk and the
// NDK; see bindings/README.md). Skip with -Plogbook.cargoNdk=false when jniLibs are
// already there, e.g. built by CI.
val cargoNdk by tasks.registering(Exec::class) {
    group = "build"
    description = "Runs scripts/build-android.sh (cargo ndk) into src/main/jniLibs"
    workingDir = repoRoot
    commandLine("bash", "scripts/build-android.sh")
    onlyIf { (findProperty("logbook.cargoNdk") ?: "true") != "false" }
}
tasks.named("preBuild") { dependsOn(cargoNdk) }
