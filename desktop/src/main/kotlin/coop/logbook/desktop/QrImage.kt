// The desktop's "scan": read the invite QR code from a picture file (a photo or a screenshot
// of the coordinator's invite), with ZXing (com.google.zxing:core). The
// text goes to the Rust join screen model, which decides whether it is an invite.
package coop.logbook.desktop

import com.google.zxing.BarcodeFormat
import com.google.zxing.BinaryBitmap
import com.google.zxing.ChecksumException
import com.google.zxing.DecodeHintType
import com.google.zxing.FormatException
import com.google.zxing.NotFoundException
import com.google.zxing.RGBLuminanceSource
import com.google.zxing.common.HybridBinarizer
import com.google.zxing.qrcode.QRCodeReader
import java.awt.FileDialog
import java.awt.Frame
import java.awt.image.BufferedImage
import java.io.File
import javax.imageio.ImageIO

object QrImage {
    private val hints = mapOf(
        DecodeHintType.TRY_HARDER to true,
        DecodeHintType.POSSIBLE_FORMATS to listOf(BarcodeFormat.QR_CODE),
        DecodeHintType.CHARACTER_SET to "UTF-8",
    )

    /** The text of the QR code in [image], or null if there is none (or it cannot be read). */
    fun decode(image: BufferedImage): String? = try {
        val pixels = image.getRGB(0, 0, image.width, image.height, null, 0, image.width)
        val bitmap = BinaryBitmap(HybridBinarizer(RGBLuminanceSource(image.width, image.height, pixels)))
        QRCodeReader().decode(bitmap, hints).text
    } catch (_: NotFoundException) {
        null
    } catch (_: ChecksumException) {
        null
    } catch (_: FormatException) {
        null
    }

    /** The text of the QR code in a picture file; null if it is no picture or has no QR code. */
    fun decode(file: File): String? = runCatching { ImageIO.read(file) }.getOrNull()?.let { decode(it) }

    /** Ask for a picture file and read its QR code (the join screen's scan button). */
    fun pickAndDecode(title: String): String? {
        val dialog = FileDialog(null as Frame?, title, FileDialog.LOAD)
        dialog.isVisible = true
        val name = dialog.file ?: return null
        return decode(File(dialog.directory, name))
    }
}
