// Co-op Logbook Android project. Open this directory (android/) in Android Studio.
//
// Modules:
//   :logbook-kotlin   pure Kotlin/JVM: the idiomatic wrapper and presentation logic over the
//                     generated uniffi bindings; its tests run on the JVM against the real
//                     Rust library (also without Gradle: scripts/test-kotlin.sh)
//   :logbook-android  Android library: generated bindings + liblogbook_ffi.so per ABI
//                     (src/main/jniLibs, built by scripts/build-android.sh)
//   :logbook-compose  Android library: the Compose screens shared with the desktop app
//                     (kiosk, worker's phone, coordinator) over the Rust screen models
//   :app              the Android app: one app, three modes (not built on the Linux machine)
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
include(":logbook-kotlin", ":logbook-android", ":logbook-compose", ":app")
