// Co-op Logbook Android project. Open this directory (android/) in Android Studio.
//
// Modules:
//   :logbook-kotlin   pure Kotlin/JVM: the idiomatic wrapper and presentation logic over the
//                     generated uniffi bindings; its tests run on the JVM against the real
//                     Rust library (also without Gradle: scripts/test-kotlin.sh)
//   :logbook-android  Android library: generated bindings + liblogbook_ffi.so per ABI
//                     (src/main/jniLibs, built by scripts/build-android.sh)
// The Compose app module comes later and depends on both.
pluginManagement {
    repositories {
        google()
        mavenCentral()
        gradlePluginPortal()
    }
}

dependencyResolutionManagement {
    repositoriesMode.set(RepositoriesMode.FAIL_ON_PROJECT_REPOS)
    repositories {
        google()
        mavenCentral()
    }
}

rootProject.name = "CoopLogbook"
include(":logbook-kotlin", ":logbook-android")
