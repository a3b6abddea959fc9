// The device-admin receiver that makes `dpm set-device-owner` possible for kiosk tablets.
package coop.logbook.app

import android.app.admin.DeviceAdminReceiver

class KioskAdminReceiver : DeviceAdminReceiver()
