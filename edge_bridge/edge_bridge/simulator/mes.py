"""MES simulator: publishes readings as JSON events over MQTT (QoS 1, persistent session).

Topic ``<prefix>/<asset>/<tag>``, payload ``{"asset", "tag", "value", "ts", "seq"}`` - the field
layout the example configuration maps. Alarms are MES-style objects on tag ``alarm``:
``{"code", "severity", "active"}``.
"""
import json
import threading
from datetime import datetime, timezone

import paho.mqtt.client as mqtt

from .scenario import ALARMS


def mes_event(reading):
    tag, value = reading.tag, reading.value
    if tag.startswith("alarm_"):
        code = tag[6:].upper()
        tag, value = "alarm", {"code": code, "severity": ALARMS[code], "active": value}
    return tag, {"asset": reading.asset, "tag": tag, "value": value,
                 "ts": datetime.fromtimestamp(reading.at, timezone.utc).isoformat(timespec="microseconds"),
                 "seq": reading.seq}


class MesPublisher:
    def __init__(self, host="127.0.0.1", port=1883, prefix="mes", client_id="edge-sim-mes"):
        self.prefix = prefix
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False)
        self.client.max_queued_messages_set(0)
        self.client.max_inflight_messages_set(1000)
        self.client.reconnect_delay_set(0.2, 5)
        self.connected = threading.Event()
        self.client.on_connect = lambda c, u, f, rc, p: self.connected.set() if not rc.is_failure else None
        self.client.on_disconnect = lambda c, u, f, rc, p: self.connected.clear()
        self.client.connect_async(host, port, keepalive=30)
        self.client.loop_start()
        self.last_info = None

    def publish(self, reading):
        tag, body = mes_event(reading)
        self.last_info = self.client.publish(f"{self.prefix}/{reading.asset}/{tag}", json.dumps(body), qos=1)
        return self.last_info

    def publish_raw(self, topic, payload):
        return self.client.publish(topic, payload, qos=1)

    def wait_all_sent(self, timeout=30):
        if self.last_info is not None:
            self.last_info.wait_for_publish(timeout)

    def close(self):
        self.client.disconnect()
        self.client.loop_stop()
