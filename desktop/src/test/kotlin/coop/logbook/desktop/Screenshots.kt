// Render a composable to a PNG under target/screenshots/ and check it is not blank.
package coop.logbook.desktop

import androidx.compose.runtime.Composable
import androidx.compose.ui.ImageComposeScene
import androidx.compose.ui.graphics.toAwtImage
import androidx.compose.ui.test.ComposeUiTest
import androidx.compose.ui.test.ExperimentalTestApi
import androidx.compose.ui.test.captureToImage
import androidx.compose.ui.test.onRoot
import androidx.compose.ui.unit.Density
import java.awt.image.BufferedImage
import java.io.ByteArrayInputStream
import java.io.File
import javax.imageio.ImageIO
import org.jetbrains.skia.EncodedImageFormat
import kotlin.test.assertTrue

object Screenshots {
    val dir: File = File(System.getProperty("logbook.screenshots.dir") ?: "target/screenshots").apply { mkdirs() }

    /** Facts about a rendered image, for the blank-screen check. */
    data class Stats(val width: Int, val height: Int, val distinctColours: Int, val dominantShare: Double)

    /** Render [content] at [width]x[height] px (density 1), write `<name>.png`, return its stats. */
    fun render(name: String, width: Int = 1280, height: Int = 800, content: @Composable () -> Unit): Pair<File, Stats> {
        val scene = ImageComposeScene(width, height, Density(1f), content = content)
        val png = try {
            scene.render().encodeToData(EncodedImageFormat.PNG)!!.bytes
        } finally {
            scene.close()
        }
        val file = File(dir, "$name.png")
        file.writeBytes(png)
        return file to statsOf(ImageIO.read(ByteArrayInputStream(png)))
    }

    /** Capture what a running UI test shows to `<name>.png`, and check it is not blank. */
    @OptIn(ExperimentalTestApi::class)
    fun ComposeUiTest.snapshot(name: String): File {
        waitForIdle()
        val img = onRoot().captureToImage().toAwtImage()
        val file = File(dir, "$name.png")
        ImageIO.write(img, "png", file)
        assertNotBlank(file, statsOf(img))
        return file
    }

    fun statsOf(img: BufferedImage): Stats {
        val counts = HashMap<Int, Int>()
        for (y in 0 until img.height) for (x in 0 until img.width) counts.merge(img.getRGB(x, y), 1, Int::plus)
        return Stats(img.width, img.height, counts.size, counts.values.max().toDouble() / (img.width * img.height))
    }

    /**
     * Fail if the image is blank: a handful of colours (text alone brings dozens of
     * anti-aliasing shades), or 99.5 % of the pixels one colour (the sparsest screen, the empty
     * roster, is about 97 % background).
     */
    fun assertNotBlank(file: File, stats: Stats) {
        assertTrue(stats.distinctColours > 8, "$file looks blank: only ${stats.distinctColours} colours")
        assertTrue(stats.dominantShare < 0.995, "$file looks blank: ${"%.1f".format(stats.dominantShare * 100)} % one colour")
    }
}
