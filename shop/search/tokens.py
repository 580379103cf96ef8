"""Turn Chinese (and mixed) text into search terms.

Documents are indexed with three kinds of term, all lower-case:
- jieba's search-mode words (沙窝, 萝卜, 沙窝萝卜 …), which rank whole-word hits;
- every pair of adjacent Chinese characters (bigrams), which make any
  two-or-more-character part of a name findable even where jieba's
  dictionary splits it differently (茶淀玫瑰香葡萄 → … 香葡, 葡萄);
- single Chinese characters of the title, so a one-character query (蟹) works.
A query is cut with jieba first (so bigrams never straddle two query words),
then each word becomes its bigrams (or itself, if one character or not
Chinese); a product matches when it holds every query term.
"""

import logging
import re
import threading

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_WORD = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+|[a-z0-9]+(?:[.\-][a-z0-9]+)*")
MAX_QUERY_TERMS = 24

_jieba = None
_jieba_lock = threading.Lock()


def _get_jieba():
    """Load jieba's dictionary once per process (it takes most of a second)."""
    global _jieba
    if _jieba is None:
        with _jieba_lock:
            if _jieba is None:
                import jieba

                jieba.setLogLevel(logging.WARNING)
                jieba.initialize()
                _jieba = jieba
    return _jieba


def _bigrams(run: str) -> list[str]:
    if len(run) < 2:
        return [run]
    return [run[i : i + 2] for i in range(len(run) - 1)]


def document_terms(text: str, *, unigrams: bool = False) -> list[str]:
    """All index terms for a piece of document text, de-duplicated, in order."""
    text = (text or "").lower()
    terms: list[str] = []
    for word in _get_jieba().lcut_for_search(text):
        terms.extend(_WORD.findall(word))
    for run in _CJK.findall(text):
        terms.extend(_bigrams(run))
        if unigrams:
            terms.extend(run)
    return list(dict.fromkeys(t for t in terms if t))


def query_terms(query: str) -> list[str]:
    """The terms a document must contain to match ``query``."""
    query = (query or "").lower()
    terms: list[str] = []
    for word in _get_jieba().lcut(query):
        for part in _WORD.findall(word):
            terms.extend(_bigrams(part) if _CJK.fullmatch(part) else [part])
    return list(dict.fromkeys(terms))[:MAX_QUERY_TERMS]


def join_terms(terms: list[str]) -> str:
    """Stored form: space separated with spaces at both ends, so a
    ``LIKE '% term %'`` on SQLite matches whole terms only."""
    return f" {' '.join(terms)} " if terms else ""
