"""Realistic sample customer messages, email- and WhatsApp-shaped, for the no-credentials demo."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SAMPLES", "Sample"]


@dataclass(frozen=True)
class Sample:
    """One sample message; ``answers`` names the sample it replies to (email threading)."""

    key: str
    channel: str
    sender: str
    name: str
    text: str
    subject: str | None = None
    answers: str | None = None
    auto_reply: bool = False
    photo: str | None = None  # a file in adapters/demo/samples/ sent along


SAMPLES: tuple[Sample, ...] = (
    Sample(
        "refund",
        "email",
        "jane.doe@example.org",
        "Jane Doe",
        "Hello,\n\nI ordered the walnut desk (order 1881) two weeks ago and it arrived with a cracked leg.\n"
        "Could I get a refund, or a replacement leg? A photo of the leg is attached.\n\nThanks,\nJane",
        subject="Refund for order 1881",
        photo="cracked-leg.jpg",
    ),
    Sample(
        "parcel",
        "whatsapp",
        "+31 6 1234 5678",
        "Sofia Rossi",
        "Hi! My parcel says delivered but there's nothing at my door 😕",
    ),
    Sample(
        "login",
        "email",
        "arjun@patel.example",
        "Arjun Patel",
        'Hi team, since resetting my password yesterday I get "invalid token" on every login.\n'
        "I tried two browsers. Any idea? <!channel> @everyone",
        subject="Can't log in after password reset",
    ),
    Sample(
        "ooo",
        "email",
        "m.keller@firma.example",
        "Martin Keller",
        "I am out of the office until Monday and will reply to your message on my return.",
        subject="Automatic reply: Your invoice INV-2291",
        auto_reply=True,
    ),
    Sample(
        "parcel-2",
        "whatsapp",
        "+31 6 1234 5678",
        "Sofia Rossi",
        "Order number is 4471, if that helps",
    ),
    Sample(
        "refund-2",
        "email",
        "jane.doe@example.org",
        "Jane Doe",
        "Forgot to say: a replacement leg is fine too, if that is quicker!",
        subject="Re: Refund for order 1881",
        answers="refund",
    ),
)
