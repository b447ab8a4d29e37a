"""Any OpenAI-compatible chat endpoint: OpenAI, Azure OpenAI, vLLM, Ollama, llama.cpp."""

from __future__ import annotations

import openai

from llm.base import ChatRequest, estimate_tokens
from llm.errors import ProviderError
from llm.http_errors import translate
from llm.http_pool import shared_http_client


class OpenAIProvider:
    name = "openai"

    def __init__(self, *, model: str, api_key: str, base_url: str = "", timeout_s: float = 60.0):
        self.model = model
        # Retries are ours (LLMClient): the SDK's own are switched off so each attempt counts.
        self._client = openai.OpenAI(
            api_key=api_key or "not-needed",
            base_url=base_url or None,
            timeout=timeout_s,
            max_retries=0,
            http_client=shared_http_client(openai),
        )

    def complete(self, request: ChatRequest) -> tuple[str, int, int]:
        messages = [{"role": "system", "content": request.system}]
        messages += [{"role": m.role, "content": m.content} for m in request.messages]
        try:
            response = self._client.chat.completions.create(
                model=self.model,
                messages=messages,
                max_tokens=request.max_tokens,
                temperature=request.temperature,
            )
        except openai.OpenAIError as error:
            raise translate(openai, error, provider=self.name) from error
        if not response.choices:
            raise ProviderError(f"{self.name} answered with no choices.")
        text = response.choices[0].message.content or ""
        usage = response.usage
        input_tokens = usage.prompt_tokens if usage else estimate_tokens(request.prompt_text())
        output_tokens = usage.completion_tokens if usage else estimate_tokens(text)
        return text, input_tokens, output_tokens
