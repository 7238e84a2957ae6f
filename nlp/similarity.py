"""Similar stories: TF-IDF on Snowball stems, cosine similarity, top-k neighbours per story.

Why TF-IDF on stems: the stories are short (a few hundred words), all in Dutch, all about the
same field. What makes two stories alike for a researcher is the specific situation they
describe ("huurachterstand", "deurwaarder", "mantelzorg"), not the words every story shares;
TF-IDF weighs exactly that, with sublinear term frequency so one repeated word does not
dominate. Stems (the same ones the search index holds) fold inflections together
("schulden" and "schuld"), so two stories about debts match however they are phrased. Dense
embeddings would need a model we cannot download or ship; LSA would blur the specific terms
that matter most and costs a dense product per pair.

Why precompute and store (vertelpunt/search.py, table story_neighbours): a story page must
stay fast at 100,000 stories. Cosine similarity of one story against all others is a sparse
matrix product; doing it for every page view would cost tens of milliseconds and a matrix
of the whole corpus in memory in every process. Instead the top-5 neighbours of every story
are computed in one batch (the product in chunks of rows, so memory stays bounded: chunk x N
floats) and stored; a story page then reads five rows by primary key.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

K = 5
CHUNK = 256  # rows per sparse product: CHUNK x N float32 in memory at a time
MIN_SCORE = 0.05  # below this two stories share little more than chance words


def vectorize(docs: list[str]) -> sparse.csr_matrix:
    """L2-normalised TF-IDF rows for documents given as space-separated stems."""
    n = len(docs)
    vectorizer = TfidfVectorizer(
        analyzer=str.split,
        sublinear_tf=True,
        min_df=2 if n >= 20 else 1,  # a stem in one story alone cannot link two stories
        max_df=0.5 if n >= 50 else 1.0,  # stems in half the corpus say nothing specific
        dtype=np.float32,
    )
    try:
        return vectorizer.fit_transform(docs).tocsr()
    except ValueError:  # empty vocabulary (no documents, or only stop words)
        return sparse.csr_matrix((n, 0), dtype=np.float32)


def top_neighbours(
    docs: list[str], k: int = K, chunk: int = CHUNK
) -> list[list[tuple[int, float]]]:
    """For every document, its k most similar other documents as (index, cosine), best first."""
    matrix = vectorize(docs)
    n = matrix.shape[0]
    out: list[list[tuple[int, float]]] = []
    if n < 2 or matrix.shape[1] == 0:
        return [[] for _ in range(n)]
    transposed = matrix.T.tocsc()
    for start in range(0, n, chunk):
        block = (matrix[start : start + chunk] @ transposed).toarray()
        rows = np.arange(block.shape[0])
        block[rows, rows + start] = -1.0  # a story is not its own neighbour
        take = min(k, n - 1)
        best = np.argpartition(-block, take - 1, axis=1)[:, :take]
        for r in range(block.shape[0]):
            cols = best[r][np.argsort(-block[r, best[r]], kind="stable")]
            out.append([(int(c), float(block[r, c])) for c in cols if block[r, c] >= MIN_SCORE])
    return out


def rank_candidates(
    query: str, candidates: list[str], df: dict[str, int], n_docs: int, k: int = K
) -> list[tuple[int, float]]:
    """The k candidates most similar to `query` as (index, cosine), best first, with the
    corpus's document frequencies `df` (of n_docs documents) as idf: the same TF-IDF
    weighting as top_neighbours, for one new story against a shortlist of others."""
    vocab = sorted({t for doc in [query, *candidates] for t in doc.split()})
    if not vocab or not candidates:
        return []
    vectorizer = TfidfVectorizer(
        analyzer=str.split, sublinear_tf=True, vocabulary=vocab, dtype=np.float32
    )
    vectorizer.fit([query])  # sets up the vocabulary; the idf comes from the whole corpus:
    vectorizer.idf_ = np.array(
        [np.log((1 + n_docs) / (1 + df.get(t, 0))) + 1 for t in vocab], dtype=np.float32
    )
    matrix = vectorizer.transform([query, *candidates])
    scores = (matrix[1:] @ matrix[0].T).toarray().ravel()
    best = np.argsort(-scores, kind="stable")[:k]
    return [(int(i), float(scores[i])) for i in best if scores[i] >= MIN_SCORE]
