"""invoice: turns a validated order into an invoice, `com.example.order.invoiced`.

The invoice's number derives from the order's id, so a redelivered order gets the same
invoice (delivery is at least once).
"""

from __future__ import annotations

from cloudevents.core.v1.event import CloudEvent


def handle(event: CloudEvent) -> CloudEvent:
    order = event.get_data()
    invoice = {
        "invoice": f"INV-{order['id']}",
        "order": order["id"],
        "email": order["email"],
        "amount": f"{order['total']:.2f}",
    }
    return CloudEvent(
        {
            "id": f"{event.get_id()}.invoiced",
            "source": "/motif/invoice",
            "type": "com.example.order.invoiced",
            "subject": str(order["id"]),
            "datacontenttype": "application/json",
        },
        invoice,
    )
