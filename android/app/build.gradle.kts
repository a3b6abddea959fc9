// The Co-op Logbook Android app: one app, three modes (kiosk, worker's phone, coordinator),
// chosen by the grant of the one-time code the device joined with. Thin over the Rust screen
// models (crate logbook-screens, through :logbook-android) and the shared Compose screens
// (:logbook-compose). NOT BUILT ON THIS MACHINE: open android/ in Android Studio.
plugins {
    alias(libs.plugins.android.application)
    alias(libs.plugins.kotlin.android)
    alias(libs.plugins.kotlin.compose)
}

android {
    namespace = "coop.logbook.app"
    compileSdk = 35

    defaultConfig {
        applicationId = "coop.logbook.app"
        minSdk = 26 // Android 8: the cheap phones the cooperatives have
        targetSdk = 35
        versionCode = 1
        versionName = "0.1.0"
    }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }
    buildFeatures { compose = true }
    sourceSets["main"].java.srcDir("src/main/kotlin")
}

kotlin { jvmToolchain(17) }

dependencies {
    implementation(project(":logbook-compose"))
    implementation(libs.androidx.activity.compose)
    implementation(libs.androidx.work.runtime)
    implementation(libs.zxing.android.embedded)
    implementation(libs.kotlinx.coroutines.android)
}
