"""The official openai-python SDK as a client, for tests/official_sdks.rs.

Reads a JSON list of requests from the file named by argv[1] and, for each, streams the chat
completion the way an application does: `client.chat.completions.create(stream=True)`, every
chunk fed to `ChatCompletionStreamState` (what the `.stream()` helper runs), then
`get_final_completion()`. Prints one JSON line per request: whether the SDK raised (the
exception's class and message) or what the final message holds.
"""

import json
import sys

import openai
from openai.lib.streaming.chat import ChatCompletionStreamState


def outcome(client, case):
    body = dict(case["body"])
    body.pop("stream", None)
    out = {"name": case["name"], "chunks": 0}
    try:
        stream = client.chat.completions.create(
            **body, stream=True, extra_headers=case["headers"]
        )
        state = ChatCompletionStreamState()
        for chunk in stream:
            out["chunks"] += 1
            state.handle_chunk(chunk)
        final = state.get_final_completion()
    except Exception as e:  # what an application would see
        kind = type(e)
        out["raised"] = f"{kind.__module__}.{kind.__qualname__}"
        out["message"] = str(e)[:300]
        return out
    out["choices"] = [
        {
            "index": c.index,
            "role": c.message.role,
            "content": c.message.content,
            "finish_reason": c.finish_reason,
            "tool_calls": [
                {"id": t.id, "name": t.function.name, "arguments": t.function.arguments}
                for t in (c.message.tool_calls or [])
            ],
        }
        for c in final.choices
    ]
    return out


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        cases = json.load(f)
    for case in cases:
        client = openai.OpenAI(
            base_url=case["base_url"], api_key=case["key"], max_retries=0, timeout=10.0
        )
        print(json.dumps(outcome(client, case)), flush=True)


if __name__ == "__main__":
    main()
