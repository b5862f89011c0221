// The official openai-node SDK as a client, for tests/official_sdks.rs.
//
// Reads a JSON list of requests from the file named by argv[2] and, for each, streams the chat
// completion the way an application does: `client.chat.completions.stream()` (a
// ChatCompletionStream over the SDK's Stream), every chunk iterated, then
// `finalChatCompletion()`. Prints one JSON line per request: whether the SDK threw (the error's
// class and message) or what the final message holds.

import { readFileSync } from 'node:fs';
import OpenAI from 'openai';

async function outcome(client, c) {
  const { stream: _stream, ...body } = c.body;
  const out = { name: c.name, chunks: 0 };
  try {
    const stream = client.chat.completions.stream(body, { headers: c.headers });
    for await (const _chunk of stream) out.chunks += 1;
    const final = await stream.finalChatCompletion();
    out.choices = final.choices.map((ch) => ({
      index: ch.index,
      role: ch.message.role,
      content: ch.message.content,
      finish_reason: ch.finish_reason,
      tool_calls: (ch.message.tool_calls ?? []).map((t) => ({
        id: t.id,
        name: t.function?.name,
        arguments: t.function?.arguments,
      })),
    }));
  } catch (e) {
    out.raised = e?.constructor?.name ?? typeof e;
    out.message = String(e?.message ?? e).slice(0, 300);
  }
  return out;
}

const cases = JSON.parse(readFileSync(process.argv[2], 'utf8'));
for (const c of cases) {
  const client = new OpenAI({ baseURL: c.base_url, apiKey: c.key, maxRetries: 0, timeout: 10_000 });
  process.stdout.write(JSON.stringify(await outcome(client, c)) + '\n');
}
