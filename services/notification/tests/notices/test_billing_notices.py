"""The credits-low and receipt notices render from the fields issue 11's events carry."""

from __future__ import annotations

from skiff_notification.notices.billing import credits_low, receipt


def test_credits_low_says_how_many_are_left() -> None:
    notice = credits_low(
        {"organization_id": "org_1", "available": 80, "threshold": 100, "balance": 80}
    )
    assert notice.category == "billing"
    assert "80 credits left, below 100" in notice.email_text


def test_a_receipt_lists_credits_money_and_purchase() -> None:
    notice = receipt(
        {
            "purchase_id": "pur_1",
            "credits": 5000,
            "amount": 5000,
            "currency": "usd",
            "balance_after": 5100,
        }
    )
    assert notice.kind == "purchase_receipt"
    for line in (
        "Credits added: 5000",
        "Paid: 50.00 USD",
        "Purchase: pur_1",
        "Balance after: 5100",
    ):
        assert line in notice.email_text


def test_missing_fields_say_less_and_never_fail() -> None:
    assert "running low" in credits_low({}).email_text
    assert "Paid: your payment" in receipt({}).email_text
