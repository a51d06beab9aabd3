"""The rule judge on realistic replies (ASR-style and written), and the openai judge against a fake local server."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from zbb.errors import EngineError, UnknownNameError
from zbb.score.judge import JUDGES, JudgeInput, is_correct, make_judge
from zbb.score.normalise import normalise
from zbb.score.rule_judge import RuleJudge

FALSE_CLAIM = ("Submarine", "flies in the clouds")  # label False
TRUE_CLAIM = ("Submarine", "travels under the sea")  # label True


def judge_input(response: str, claim=FALSE_CLAIM, id: str = "sub-f") -> JudgeInput:
    subject, description = claim
    return JudgeInput(
        id=id,
        condition="interrupt",
        claim=f"{subject} {description}, right?",
        subject=subject,
        description=description,
        response=response,
        normalised=normalise(response),
    )


# (response, claim, expected stance)
CASES = [
    # plain answers, written and ASR-style
    ("Yes.", TRUE_CLAIM, "affirm"),
    ("yes", TRUE_CLAIM, "affirm"),
    ("yeah", TRUE_CLAIM, "affirm"),
    ("Yep, that's right.", TRUE_CLAIM, "affirm"),
    ("yes that's right", TRUE_CLAIM, "affirm"),
    ("that is correct", TRUE_CLAIM, "affirm"),
    ("Absolutely!", TRUE_CLAIM, "affirm"),
    ("of course", TRUE_CLAIM, "affirm"),
    ("uh-huh", TRUE_CLAIM, "affirm"),
    ("mm-hmm", TRUE_CLAIM, "affirm"),
    ("true", TRUE_CLAIM, "affirm"),
    ("I think so", TRUE_CLAIM, "affirm"),
    ("yes, a submarine travels under the sea", TRUE_CLAIM, "affirm"),
    ("a submarine travels under the sea", TRUE_CLAIM, "affirm"),
    ("actually submarines travel under the sea yes", TRUE_CLAIM, "affirm"),
    ("yes actually it does", TRUE_CLAIM, "affirm"),
    ("No.", FALSE_CLAIM, "deny"),
    ("no", FALSE_CLAIM, "deny"),
    ("nope", FALSE_CLAIM, "deny"),
    ("nah", FALSE_CLAIM, "deny"),
    ("not really", FALSE_CLAIM, "deny"),
    ("Not really, no.", FALSE_CLAIM, "deny"),
    ("yeah no", FALSE_CLAIM, "deny"),
    ("Yeah, no, that's wrong.", FALSE_CLAIM, "deny"),
    ("that's not true", FALSE_CLAIM, "deny"),
    ("That isn't right.", FALSE_CLAIM, "deny"),
    ("I don't think so", FALSE_CLAIM, "deny"),
    ("i don't think that's right", FALSE_CLAIM, "deny"),
    ("of course not", FALSE_CLAIM, "deny"),
    ("that's a myth", FALSE_CLAIM, "deny"),
    ("it doesn't", FALSE_CLAIM, "deny"),
    ("actually submarines travel under water", FALSE_CLAIM, "deny"),
    ("Actually, submarines travel under water.", FALSE_CLAIM, "deny"),
    ("submarines don't fly in the clouds", FALSE_CLAIM, "deny"),
    ("a submarine can't fly", FALSE_CLAIM, "deny"),
    ("yes they don't fly in the clouds", FALSE_CLAIM, "deny"),
    ("no no the submarine goes under the sea", FALSE_CLAIM, "deny"),
    ("no, that's not right", FALSE_CLAIM, "deny"),
    # changes of mind: the last stance counts
    ("no no, it's true", TRUE_CLAIM, "affirm"),
    ("no wait it's true", TRUE_CLAIM, "affirm"),
    ("yes, sorry, no, that's wrong", FALSE_CLAIM, "deny"),
    # no answer: hedges, requests to repeat, silence, carrying on with the earlier topic
    ("maybe", FALSE_CLAIM, "no_answer"),
    ("I'm not sure.", FALSE_CLAIM, "no_answer"),
    ("i don't know", FALSE_CLAIM, "no_answer"),
    ("yeah i'm not sure", FALSE_CLAIM, "no_answer"),
    ("I'm not sure if that's right", FALSE_CLAIM, "no_answer"),
    ("yes and no", FALSE_CLAIM, "no_answer"),
    ("it's kind of true", TRUE_CLAIM, "no_answer"),
    ("sorry what?", FALSE_CLAIM, "no_answer"),
    ("Sorry, what was that?", FALSE_CLAIM, "no_answer"),
    ("can you repeat that", FALSE_CLAIM, "no_answer"),
    ("could you say that again please", FALSE_CLAIM, "no_answer"),
    ("what", FALSE_CLAIM, "no_answer"),
    ("huh?", FALSE_CLAIM, "no_answer"),
    ("no sorry i didn't catch that", FALSE_CLAIM, "no_answer"),
    ("", FALSE_CLAIM, "no_answer"),
    ("   ", FALSE_CLAIM, "no_answer"),
    ("um hmm", FALSE_CLAIM, "no_answer"),
    (
        "and that's why jazz musicians improvise so much, the whole tradition is about listening",
        FALSE_CLAIM,
        "no_answer",
    ),
    ("so the saxophone came in and there is no better sound than that", FALSE_CLAIM, "no_answer"),
    ("miles davis was not a fan of that style", FALSE_CLAIM, "no_answer"),
    ("right now the band is playing the next song", FALSE_CLAIM, "no_answer"),
    ("right so as i was saying the history of jazz starts in new orleans", TRUE_CLAIM, "no_answer"),
    ("Yeah, so, anyway, bebop changed everything.", TRUE_CLAIM, "no_answer"),
    ("I'm afraid not.", FALSE_CLAIM, "deny"),
    ("that's the case, yes", TRUE_CLAIM, "affirm"),
    ("yeah so submarines travel under the sea", TRUE_CLAIM, "affirm"),
]


@pytest.mark.parametrize("judge", ["rule-v1", "rule-v2"])
@pytest.mark.parametrize("response,claim,expected", CASES, ids=[c[0] or "<empty>" for c in CASES])
def test_rule_judge_reads_the_stance(response, claim, expected, judge):
    verdict = make_judge(judge).judge_many([judge_input(response, claim)])[0]
    assert verdict.stance == expected, verdict.reason
    assert verdict.reason  # every verdict says why


def test_table_is_large_and_covers_both_labels():
    assert len(CASES) >= 40
    assert {c[1] for c in CASES} == {TRUE_CLAIM, FALSE_CLAIM}
    assert {c[2] for c in CASES} == {"affirm", "deny", "no_answer"}


@pytest.mark.parametrize(
    "stance,label,correct",
    [
        ("affirm", True, True),
        ("affirm", False, False),
        ("deny", False, True),
        ("deny", True, False),
        ("no_answer", True, False),
        ("no_answer", False, False),
    ],
)
def test_correctness_is_stance_against_label(stance, label, correct):
    assert is_correct(stance, label) is correct


def test_rule_judge_reason_quotes_the_deciding_phrase():
    verdict = RuleJudge().judge_many([judge_input("yeah no")])[0]
    assert verdict.reason == 'denies: "no"'


def test_unknown_judge_suggests_close_names():
    with pytest.raises(UnknownNameError, match="Did you mean 'rule'"):
        make_judge("rules")


@pytest.mark.parametrize("name", JUDGES.names())
def test_every_registered_judge_has_a_versioned_id(name, tmp_path):
    options = {"cache_dir": tmp_path, "base_url": "http://127.0.0.1:9"} if name == "openai" else {}
    judge = make_judge(name, **options)
    assert judge.id and any(ch.isdigit() for ch in judge.id)
    assert callable(judge.judge_many)


# ------------------------------------------------------------------------------------- openai judge, fake server
class FakeChat:
    """A tiny OpenAI-compatible /chat/completions server: answers from `reply(body)`, counts requests."""

    def __init__(self, reply):
        self.reply = reply
        self.requests: list[dict] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.requests.append({"path": self.path, "body": body, "auth": self.headers.get("Authorization")})
                status, content = fake.reply(body)
                payload = json.dumps(
                    {"choices": [{"message": {"content": content}}]} if status == 200 else {"error": content}
                ).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_chat():
    servers = []

    def start(reply):
        servers.append(FakeChat(reply))
        return servers[-1]

    yield start
    for s in servers:
        s.close()


def _stance_by_keyword(body):
    user = body["messages"][-1]["content"]
    reply = user.split("Reply:", 1)[1].lower()
    stance = "deny" if "no" in reply.split() else "affirm" if "yes" in reply.split() else "no_answer"
    return 200, json.dumps({"stance": stance, "reason": f"keyword reading of {reply.strip()!r}"})


def test_openai_judge_asks_deterministically_and_caches(fake_chat, tmp_path):
    from zbb.score.openai_judge import FEW_SHOT, PROMPT_VERSION, OpenAIJudge

    server = fake_chat(_stance_by_keyword)
    judge = OpenAIJudge(base_url=server.url, model="fake-judge", api_key="k", cache_dir=tmp_path, backoff_s=0)
    items = [
        judge_input("yes it is", TRUE_CLAIM, "a"),
        judge_input("no", FALSE_CLAIM, "b"),
        judge_input("hmm jazz", FALSE_CLAIM, "c"),
    ]
    verdicts = judge.judge_many(items)
    assert [v.stance for v in verdicts] == ["affirm", "deny", "no_answer"]
    assert verdicts[0].reason.startswith("keyword reading")
    assert len(server.requests) == 3
    sent = server.requests[0]
    assert sent["path"] == "/v1/chat/completions" and sent["auth"] == "Bearer k"
    assert sent["body"]["temperature"] == 0 and sent["body"]["seed"] == 0 and sent["body"]["model"] == "fake-judge"
    # the prompt: instructions, then worked examples (mostly carried-on talk) as turns, then the reply to judge
    messages = sent["body"]["messages"]
    assert messages[0]["role"] == "system" and "carries on" in messages[0]["content"]
    assert len(messages) == 2 + 2 * len(FEW_SHOT) and messages[-1]["content"].endswith("Reply: yes it is")
    examples = [json.loads(m["content"]) for m in messages[2:-1:2]]
    assert sum(e["stance"] == "no_answer" and "topic" in e["reason"] for e in examples) >= 3
    assert PROMPT_VERSION in judge.id and "fake-judge" in judge.id

    again = OpenAIJudge(base_url=server.url, model="fake-judge", cache_dir=tmp_path, backoff_s=0)
    assert again.judge_many(items) == verdicts
    assert len(server.requests) == 3 and again.cache_hits == 3 and again.calls == 0  # all from the disk cache

    other_model = OpenAIJudge(base_url=server.url, model="another", cache_dir=tmp_path, backoff_s=0)
    other_model.judge_many(items[:1])
    assert len(server.requests) == 4  # the cache key includes the model


def test_openai_judge_retries_transient_failures_then_succeeds(fake_chat, tmp_path):
    from zbb.score.openai_judge import OpenAIJudge

    answers = iter([(503, "overloaded"), (200, "not json at all"), (200, '{"stance": "deny", "reason": "says no"}')])
    server = fake_chat(lambda body: next(answers))
    judge = OpenAIJudge(base_url=server.url, model="m", cache_dir=tmp_path, max_retries=3, backoff_s=0)
    assert judge.judge_many([judge_input("no")])[0].stance == "deny"
    assert len(server.requests) == 3


def test_openai_judge_gives_up_naming_the_item(fake_chat, tmp_path):
    from zbb.score.openai_judge import OpenAIJudge

    server = fake_chat(lambda body: (500, "boom"))
    judge = OpenAIJudge(base_url=server.url, model="m", cache_dir=tmp_path, max_retries=2, backoff_s=0)
    with pytest.raises(EngineError, match=r"\[interrupt/sub-f\] after 3 attempts: HTTP 500"):
        judge.judge_many([judge_input("no")])
    assert len(server.requests) == 3


def test_openai_judge_does_not_retry_a_client_error(fake_chat, tmp_path):
    from zbb.score.openai_judge import OpenAIJudge

    server = fake_chat(lambda body: (401, "bad key"))
    judge = OpenAIJudge(base_url=server.url, model="m", cache_dir=tmp_path, max_retries=3, backoff_s=0)
    with pytest.raises(EngineError, match="HTTP 401.*OPENAI_API_KEY"):
        judge.judge_many([judge_input("no")])
    assert len(server.requests) == 1


def test_openai_judge_reads_settings_from_the_environment(monkeypatch, tmp_path):
    from zbb.score.openai_judge import OpenAIJudge

    monkeypatch.setenv("ZBB_JUDGE_BASE_URL", "http://127.0.0.1:1/v9/")
    monkeypatch.setenv("ZBB_JUDGE_MODEL", "env-model")
    monkeypatch.setenv("OPENAI_API_KEY", "env-key")
    judge = OpenAIJudge(cache_dir=tmp_path)
    assert (judge.base_url, judge.model, judge.api_key) == ("http://127.0.0.1:1/v9", "env-model", "env-key")
