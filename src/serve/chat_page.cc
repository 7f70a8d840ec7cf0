#include "serve/chat_page.h"

namespace llmcc::serve {

const char* chat_page_html() {
  return R"html(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>llmcc chat</title>
<style>
  body { font: 15px/1.45 system-ui, sans-serif; margin: 0; background: #f4f4f1; color: #1d1d1b; }
  header { padding: 10px 16px; background: #1d1d1b; color: #f4f4f1; display: flex; gap: 12px;
           align-items: baseline; }
  header b { font-size: 16px; }
  header span { opacity: 0.7; font-size: 13px; }
  #log { max-width: 760px; margin: 0 auto; padding: 16px 16px 120px; }
  .msg { margin: 10px 0; padding: 10px 12px; border-radius: 8px; white-space: pre-wrap;
         word-wrap: break-word; }
  .user { background: #dfe9f5; margin-left: 15%; }
  .assistant { background: #fff; border: 1px solid #ddd; margin-right: 15%; }
  .error { background: #fbe3e1; border: 1px solid #e5a9a3; }
  form { position: fixed; bottom: 0; left: 0; right: 0; background: #f4f4f1;
         border-top: 1px solid #ddd; padding: 10px; }
  form div { max-width: 760px; margin: 0 auto; display: flex; gap: 8px; }
  textarea { flex: 1; font: inherit; padding: 8px; height: 44px; resize: vertical; }
  button { font: inherit; padding: 0 18px; }
  #key { display: none; font: inherit; padding: 8px; }
</style>
</head>
<body>
<header><b>llmcc</b><span id="model">connecting...</span></header>
<div id="log"></div>
<form id="form">
  <div>
    <input id="key" type="password" placeholder="API key">
    <textarea id="input" placeholder="Message (Enter sends, Shift+Enter breaks the line)"></textarea>
    <button id="send" type="submit">Send</button>
  </div>
</form>
<script>
"use strict";
const log = document.getElementById("log"), input = document.getElementById("input");
const keyField = document.getElementById("key"), send = document.getElementById("send");
const params = new URLSearchParams(location.search);
const history = [];
let model = null;

function headers() {
  const h = {"Content-Type": "application/json"};
  const key = keyField.value || localStorage.getItem("llmcc-key");
  if (key) h["Authorization"] = "Bearer " + key;
  return h;
}

function bubble(role, text) {
  const div = document.createElement("div");
  div.className = "msg " + role;
  div.textContent = text;
  log.appendChild(div);
  window.scrollTo(0, document.body.scrollHeight);
  return div;
}

async function connect() {
  const r = await fetch("/v1/models", {headers: headers()});
  if (r.status === 401) {
    keyField.style.display = "block";
    document.getElementById("model").textContent = "this server needs an API key";
    return false;
  }
  const body = await r.json();
  model = body.data[0].id;
  document.getElementById("model").textContent = model;
  return true;
}

// Reads the server-sent events of a streamed completion, calling onText with each piece.
async function readStream(response, onText) {
  const reader = response.body.getReader(), decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const {value, done} = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, {stream: true});
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const event = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      for (const line of event.split("\n")) {
        if (!line.startsWith("data: ")) continue;
        const data = line.slice(6);
        if (data === "[DONE]") return;
        const chunk = JSON.parse(data);
        if (chunk.error) throw new Error(chunk.error.message);
        const delta = chunk.choices.length ? chunk.choices[0].delta : null;
        if (delta && delta.content) onText(delta.content);
      }
    }
  }
}

async function say(text) {
  if (!text.trim()) return;
  if (keyField.value) localStorage.setItem("llmcc-key", keyField.value);
  if (!model && !(await connect())) return;
  history.push({role: "user", content: text});
  bubble("user", text);
  const reply = bubble("assistant", "");
  reply.id = "reply-" + history.length;
  send.disabled = true;
  document.body.dataset.state = "streaming";
  const request = {model, messages: history, stream: true};
  if (params.has("temperature")) request.temperature = Number(params.get("temperature"));
  if (params.has("max_tokens")) request.max_tokens = Number(params.get("max_tokens"));
  try {
    const r = await fetch("/v1/chat/completions",
                          {method: "POST", headers: headers(), body: JSON.stringify(request)});
    if (!r.ok) throw new Error((await r.json()).error.message);
    await readStream(r, piece => { reply.textContent += piece; });
    history.push({role: "assistant", content: reply.textContent});
    document.body.dataset.state = "done";
  } catch (e) {
    history.pop();
    reply.className = "msg error";
    reply.textContent = String(e.message || e);
    document.body.dataset.state = "error";
  }
  send.disabled = false;
  input.focus();
}

document.getElementById("form").addEventListener("submit", e => {
  e.preventDefault();
  const text = input.value;
  input.value = "";
  say(text);
});
input.addEventListener("keydown", e => {
  if (e.key === "Enter" && !e.shiftKey) {
    e.preventDefault();
    document.getElementById("form").requestSubmit();
  }
});
connect().then(async ok => {
  if (!ok) return;
  for (const text of params.getAll("say")) await say(text);  // each ?say= is one turn
});
</script>
</body>
</html>
)html";
}

}  // namespace llmcc::serve
