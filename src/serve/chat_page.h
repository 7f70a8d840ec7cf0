// The chat page `llmcc serve` answers GET / with: one self-contained HTML file (no external
// scripts, styles or fonts) that talks to this server's own /v1/chat/completions, streams each
// reply as it is generated, and keeps the conversation's history for the next turn.
//
// It asks for the API key only when the server wants one (a 401 from /v1/models), and keeps it
// in the browser's localStorage. `/?say=TEXT` sends TEXT once the page has loaded, each `say`
// one turn after the other (`temperature` and `max_tokens` may be given the same way): a link
// that opens a chat, and what the headless-browser test drives.
#pragma once

namespace llmcc::serve {

const char* chat_page_html();

}  // namespace llmcc::serve
