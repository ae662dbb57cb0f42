"""Source stage: protocol clients that turn readings into ``Delivery`` objects.

Every source has ``start()``, ``stop_intake()`` (stop handing over new data but keep the
connection so pending acknowledgements still reach the broker), ``close()`` and ``connected``.
"""


def build_source(source_config, inbox, outbox, metrics):
    if source_config.type == "mqtt" and source_config.settings.client == "fast":
        from .mqtt_fast import FastMqttSource
        return FastMqttSource(source_config, inbox, metrics)
    if source_config.type == "mqtt":
        from .mqtt import MqttSource
        return MqttSource(source_config, inbox, metrics)
    if source_config.type == "opcua":
        from .opcua import OpcuaSource
        return OpcuaSource(source_config, inbox, metrics)
    from .http_poll import HttpPollSource
    return HttpPollSource(source_config, inbox, metrics, outbox)
