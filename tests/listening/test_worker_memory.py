"""A worker's pool processes share the ingestion models its parent loaded before forking."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from celery.signals import worker_init

from listening import learning, tasks
from listening.language import detect_language

ROOT = Path(__file__).resolve().parents[2]

# Mentions in every detected language, short and long, none of them the warm-up's own texts.
MIXED = (
    "Love the new anvil, works great",
    "@acme my order never arrived and support ignores me",
    "Me encanta el yunque nuevo",
    "Llevo dos semanas esperando el reembolso y nadie responde",
    "Adorei a bigorna nova, chegou rápido",
    "Livraison rapide, produit conforme, merci beaucoup",
    "Der Kundendienst antwortet nicht auf meine Nachrichten",
    "Ottimo servizio, lo consiglio a tutti",
    "El servei d'atenció al client no respon mai",
)


def _private_kib() -> int:
    rollup = Path("/proc/self/smaps_rollup").read_text().splitlines()
    return sum(int(line.split()[1]) for line in rollup if line.startswith(("Private_Clean", "Private_Dirty")))


def test_the_models_are_loaded_by_the_worker_before_it_forks():
    assert any(receiver() is tasks.load_models_before_forking for _, receiver in worker_init.receivers)


@pytest.mark.parametrize(
    ("queues", "loads"),
    [(["polling"], True), (["default", "polling"], True), (["outbound", "reports"], False), ([], True)],
)
def test_only_workers_of_an_ingesting_queue_load_the_models(monkeypatch, queues, loads):
    from types import SimpleNamespace

    from listening import language

    loaded = []
    monkeypatch.setattr(language, "language_models_preload", lambda: loaded.append(True))
    monkeypatch.setattr(tasks, "INGESTING_QUEUES", frozenset({"polling"}))
    monkeypatch.setattr(gc, "freeze", lambda: None)
    queues_ = SimpleNamespace(consume_from={name: None for name in queues} or None)
    worker = SimpleNamespace(app=SimpleNamespace(amqp=SimpleNamespace(queues=queues_)))
    tasks.load_models_before_forking(sender=worker)
    assert bool(loaded) == loads


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc and forks, as a prefork pool does")
def test_a_pool_process_reads_mixed_languages_without_loading_models_of_its_own():
    try:
        tasks.load_models_before_forking()
    finally:
        gc.unfreeze()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the pool process: its first ingestion's language detection
        try:
            before = _private_kib()
            detected = {detect_language(text, expected=()) for text in MIXED}
            grown = _private_kib() - before
            os.write(write, f"{grown} {len(detected)}".encode())
        finally:
            os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    grown, languages = (int(value) for value in os.read(read, 100).split())
    os.close(read)
    assert languages >= 6  # the texts really were told apart, so every model was read
    # Without the parent's loading, the child loads ~170 MiB of lingua models of its own.
    assert grown < 20 * 1024


# Complaints, questions and praise the built-in models must read as a model fitted here does.
CARE = (
    ("en", "@acme I was charged twice for the same order, I want a refund now"),
    ("en", "Parcel marked delivered, nothing here"),
    ("en", "Does the Roadrunner Pro fit the old rockets?"),
    ("es", "Me cobraron dos veces el mismo pedido y nadie contesta"),
    ("es", "¿Alguien sabe si el yunque sirve para cohetes viejos?"),
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forks, as a prefork pool does")
def test_a_workers_parent_holds_the_intent_models_without_the_library_that_fits_them():
    """Every page of the parent is mapped by each pool process: scikit-learn's and SciPy's modules,
    which only fitting uses, stay out of it, and the models it holds read mentions as before."""
    code = (
        "import json, sys, django; django.setup()\n"
        "from listening import tasks\n"
        "from listening.learning import builtin\n"
        "tasks.load_models_before_forking()\n"
        f"care = {CARE!r}\n"
        "read = [builtin(language).predict(text, 0.0) for language, text in care]\n"
        "loaded = sorted(name for name in ('sklearn', 'scipy') if name in sys.modules)\n"
        "print(json.dumps({'loaded': loaded, 'read': [[p.label, p.confidence, p.words] for p in read]}))"
    )
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.test_settings"}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    worker = json.loads(result.stdout.splitlines()[-1])
    assert worker["loaded"] == []
    here = [learning.fit_builtin(language).predict(text, 0.0) for language, text in CARE]
    assert worker["read"] == [[p.label, p.confidence, [list(word) for word in p.words]] for p in here]
