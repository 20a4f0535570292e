"""Demo payments for `manage.py seed_demo`: every state, with real history, spread over days."""

from datetime import timedelta

from django.utils import timezone

from payments.models import Payment
from payments.services import PaymentInput, payment_create, payment_transition
from payments.transitions import PaymentStatus

DEMO_MARKER = "[demo]"
# (route from draft, failure code): each state appears, several times for the common ones.
DEMO_ROUTES: list[tuple[list[str], str | None]] = [
    ([], None),
    ([], None),
    (["submitted"], None),
    (["submitted"], None),
    (["submitted", "processing"], None),
    (["submitted", "processing"], None),
    (["submitted", "processing", "requires_action"], None),
    (["submitted", "processing", "requires_action"], None),
    (["submitted", "processing", "succeeded"], None),
    (["submitted", "processing", "succeeded"], None),
    (["submitted", "processing", "succeeded"], None),
    (["submitted", "processing", "succeeded"], None),
    (["submitted", "processing", "requires_action", "processing", "succeeded"], None),
    (["submitted", "processing", "failed"], "insufficient_funds"),
    (["submitted", "failed"], "invalid_account"),
    (["submitted", "processing", "requires_action", "failed"], "authentication_failed"),
    (["canceled"], None),
    (["submitted", "canceled"], None),
]
DEMO_PAYEES = [
    ("Acme Supplies Ltd", "GB29NWBK60161331926819", "USD", 125_000, "ach"),
    ("Globex Corporation", "US-021000021-44551234", "USD", 9_870_50, "wire"),
    ("Initech GmbH", "DE89370400440532013000", "EUR", 45_000, "sepa"),
    ("Kyoto Instruments KK", "JP-0005-1234567", "JPY", 1_250_000, "wire"),
    ("Gulf Trading WLL", "KW81CBKU0000000000001234560101", "KWD", 1_250_500, "wire"),
    ("Nordic Timber AS", "NO9386011117947", "NOK", 3_400_00, "sepa"),
    ("Hooli Cloud", "card_tok_4242", "GBP", 79_99, "card"),
    ("Umbrella Logistics", "CH9300762011623852957", "CHF", 15_250_00, "wire"),
]


def seed_demo_data(*, users, rng, stdout) -> None:
    if Payment.objects.filter(description__startswith=DEMO_MARKER).exists():
        stdout.write("Payments: demo payments already present; skipped.")
        return
    operator = users["operator"]
    now = timezone.now()
    for index, (route, failure_code) in enumerate(DEMO_ROUTES):
        name, account, currency, amount, method = DEMO_PAYEES[index % len(DEMO_PAYEES)]
        payment = payment_create(
            user=operator,
            data=PaymentInput(
                amount=amount + rng.randrange(0, 1000),
                currency=currency,
                beneficiary_name=name,
                beneficiary_account=account,
                method=method,
                description=f"{DEMO_MARKER} Invoice {1000 + index}",
            ),
        )
        for target in route:
            payment_transition(
                public_id=payment.public_id,
                to=target,
                actor=operator,
                failure_code=failure_code if target == PaymentStatus.FAILED else None,
            )
        # Spread creation over the last days so the list and filters look lived in.
        created = now - timedelta(hours=rng.randint(1, 24 * 6), minutes=rng.randint(0, 59))
        Payment.objects.filter(pk=payment.pk).update(created_at=created)
    # One payment stuck at the processor for an hour, so the overview has something to flag.
    stuck = (
        Payment.objects.filter(description__startswith=DEMO_MARKER, status="processing")
        .order_by("id")
        .first()
    )
    if stuck is not None:
        Payment.objects.filter(pk=stuck.pk).update(status_changed_at=now - timedelta(hours=1))
    stdout.write(f"Payments: {len(DEMO_ROUTES)} demo payments in every state.")
