"""A language model behind an OpenAI-compatible ``/v1/chat/completions`` API, as the core's ``Drafter``."""

from adapters.llm.client import ChatCompletionsDrafter

__all__ = ["ChatCompletionsDrafter"]
