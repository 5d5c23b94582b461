"""The demo's webhook DC: one DC of the demo network is loaded with a webhook hand-off to the WMS
sandbox, every other node as the data file has it (the other DCs' WMSs pull)."""

from __future__ import annotations

from models.network import HandOffKind, NodeKind
from omniroute.demo.network import load_network
from omniroute.demo.wms import WEBHOOK_DC, WebhookWms


def test_one_demo_dc_is_told_by_webhook_and_the_others_pull() -> None:
    wms = WebhookWms(wms_url="http://127.0.0.1:9/wms", gateway_url="http://127.0.0.1:8", secret_ref="wms-x",
                     secret="whsec_eA==")
    loaded = {node.node_id: wms.hand_off_of(node) for node in load_network().nodes}

    webhook = loaded[WEBHOOK_DC]
    assert webhook.kind is NodeKind.DC and webhook.hand_off is not None
    assert webhook.hand_off.kind is HandOffKind.WEBHOOK
    assert webhook.hand_off.url == f"http://127.0.0.1:9/wms/nodes/{WEBHOOK_DC}/webhooks"
    assert webhook.hand_off.secret_ref == "wms-x"
    assert all(node.hand_off is None for node_id, node in loaded.items() if node_id != WEBHOOK_DC)
    assert sum(node.kind is NodeKind.DC for node in loaded.values()) >= 2, "pull DCs remain"
