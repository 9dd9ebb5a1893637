;; The query loop of Bm25Index.topMatches as WebAssembly: compiled before its first call, so the
;; first queries of a process run at full speed and allocate nothing (plain JavaScript runs them
;; interpreted, each double boxed on the heap, until V8 has optimised it), and about 3x faster
;; than V8's optimised JavaScript on the same loop (no bounds checks, no float32 boxing).
;;
;; Memory (one per index, sized once): the postings' documents (i32) and weights (f32); then, per
;; document, the score buffer, the ranking prior (f64 each), the stamps (u32) and the skip flags
;; (u8); and the top k (documents i32, relevances and scores f64, best first). JavaScript reads
;; and writes them through typed-array views on this memory; the pointers are byte offsets into it.
;;
;; Regenerate src/kernels-wasm.ts after an edit: `npm run build:wasm -w @prompt2model/bm25`.
(module
  (memory (export "memory") 1)

  ;; scores[documents[slot]] += weights[slot] for slot in [from, to), in that order (the same
  ;; float32-to-double additions as `scores[documents[slot]] += weights[slot]` in JavaScript, so
  ;; the same doubles); returns the largest weight added, or 0.
  (func $addPostings
    (param $documents i32) (param $weights i32) (param $scores i32) (param $from i32) (param $to i32)
    (result f32)
    (local $max f32) (local $weight f32) (local $at i32)
    (block $done
      (br_if $done (i32.ge_u (local.get $from) (local.get $to)))
      (loop $next
        (local.set $weight (f32.load (i32.add (local.get $weights) (i32.shl (local.get $from) (i32.const 2)))))
        (local.set $at
          (i32.add (local.get $scores)
            (i32.shl (i32.load (i32.add (local.get $documents) (i32.shl (local.get $from) (i32.const 2)))) (i32.const 3))))
        (f64.store (local.get $at) (f64.add (f64.load (local.get $at)) (f64.promote_f32 (local.get $weight))))
        (if (f32.gt (local.get $weight) (local.get $max)) (then (local.set $max (local.get $weight))))
        (local.set $from (i32.add (local.get $from) (i32.const 1)))
        (br_if $next (i32.lt_u (local.get $from) (local.get $to)))))
    (local.get $max))

  ;; scores[documents[slot]] = 0 for slot in [from, to): clears what addPostings added.
  (func $clearPostings
    (param $documents i32) (param $scores i32) (param $from i32) (param $to i32)
    (block $done
      (br_if $done (i32.ge_u (local.get $from) (local.get $to)))
      (loop $next
        (f64.store
          (i32.add (local.get $scores)
            (i32.shl (i32.load (i32.add (local.get $documents) (i32.shl (local.get $from) (i32.const 2)))) (i32.const 3)))
          (f64.const 0))
        (local.set $from (i32.add (local.get $from) (i32.const 1)))
        (br_if $next (i32.lt_u (local.get $from) (local.get $to))))))

  ;; Whether (document, relevance, score) ranks before the top's entry `at`: higher score, then
  ;; higher relevance, then the earlier document (TopK.before in bm25-index.ts).
  (func $before
    (param $top i32) (param $k i32) (param $document i32) (param $relevance f64) (param $score f64) (param $at i32)
    (result i32)
    (local $other f64)
    (local.set $other (f64.load (call $topScore (local.get $top) (local.get $k) (local.get $at))))
    (if (f64.ne (local.get $score) (local.get $other))
      (then (return (f64.gt (local.get $score) (local.get $other)))))
    (local.set $other (f64.load (call $topRelevance (local.get $top) (local.get $at))))
    (if (f64.ne (local.get $relevance) (local.get $other))
      (then (return (f64.gt (local.get $relevance) (local.get $other)))))
    (i32.lt_s (local.get $document) (i32.load (call $topDocument (local.get $top) (local.get $k) (local.get $at)))))

  ;; The top k lives at $top: relevances (f64 × k), scores (f64 × k), documents (i32 × k).
  (func $topRelevance (param $top i32) (param $at i32) (result i32)
    (i32.add (local.get $top) (i32.shl (local.get $at) (i32.const 3))))
  (func $topScore (param $top i32) (param $k i32) (param $at i32) (result i32)
    (i32.add (local.get $top) (i32.shl (i32.add (local.get $k) (local.get $at)) (i32.const 3))))
  (func $topDocument (param $top i32) (param $k i32) (param $at i32) (result i32)
    (i32.add (i32.add (local.get $top) (i32.shl (local.get $k) (i32.const 4))) (i32.shl (local.get $at) (i32.const 2))))

  ;; Offers the documents of postings [from, to) that this query has not ranked yet (stamps[d] is
  ;; not $stamp; it is set) and that are not skipped (skip[d] is 0, when $skip is not -1) to the
  ;; top k, by relevance scores[d] plus prior[d] (when $prior is not -1). $count entries are in the
  ;; top already; returns how many are after. The same comparisons, in the same order, as
  ;; rankPostings and TopK.offer in bm25-index.ts.
  (func $rankPostings
    (param $documents i32) (param $scores i32) (param $stamps i32) (param $prior i32) (param $skip i32)
    (param $top i32) (param $k i32) (param $count i32) (param $from i32) (param $to i32) (param $stamp i32)
    (result i32)
    (local $document i32) (local $relevance f64) (local $score f64) (local $threshold f64)
    (local $at i32) (local $stampAt i32)
    (local.set $threshold
      (if (result f64) (i32.eq (local.get $count) (local.get $k))
        (then (f64.load (call $topScore (local.get $top) (local.get $k) (i32.sub (local.get $k) (i32.const 1)))))
        (else (f64.const -inf))))
    (block $done
      (br_if $done (i32.ge_u (local.get $from) (local.get $to)))
      (loop $next
        (block $continue
          (local.set $document (i32.load (i32.add (local.get $documents) (i32.shl (local.get $from) (i32.const 2)))))
          (local.set $stampAt (i32.add (local.get $stamps) (i32.shl (local.get $document) (i32.const 2))))
          (br_if $continue (i32.eq (i32.load (local.get $stampAt)) (local.get $stamp)))
          (i32.store (local.get $stampAt) (local.get $stamp))
          (if (i32.ne (local.get $skip) (i32.const -1))
            (then (br_if $continue (i32.load8_u (i32.add (local.get $skip) (local.get $document))))))
          (local.set $relevance (f64.load (i32.add (local.get $scores) (i32.shl (local.get $document) (i32.const 3)))))
          (local.set $score
            (if (result f64) (i32.eq (local.get $prior) (i32.const -1))
              (then (local.get $relevance))
              (else (f64.add (local.get $relevance)
                (f64.load (i32.add (local.get $prior) (i32.shl (local.get $document) (i32.const 3))))))))
          ;; Most matches cannot enter a full top k: one comparison.
          (br_if $continue (f64.lt (local.get $score) (local.get $threshold)))
          ;; TopK.offer: the place it takes, or none when the top is full and it does not beat the last.
          (local.set $at (local.get $count))
          (if (i32.eq (local.get $at) (local.get $k))
            (then
              (br_if $continue (i32.eqz (call $before (local.get $top) (local.get $k) (local.get $document) (local.get $relevance) (local.get $score) (i32.sub (local.get $k) (i32.const 1)))))
              (local.set $at (i32.sub (local.get $k) (i32.const 1)))))
          (block $placed
            (loop $shift
              (br_if $placed (i32.eqz (local.get $at)))
              (br_if $placed (i32.eqz (call $before (local.get $top) (local.get $k) (local.get $document) (local.get $relevance) (local.get $score) (i32.sub (local.get $at) (i32.const 1)))))
              (i32.store (call $topDocument (local.get $top) (local.get $k) (local.get $at))
                (i32.load (call $topDocument (local.get $top) (local.get $k) (i32.sub (local.get $at) (i32.const 1)))))
              (f64.store (call $topRelevance (local.get $top) (local.get $at))
                (f64.load (call $topRelevance (local.get $top) (i32.sub (local.get $at) (i32.const 1)))))
              (f64.store (call $topScore (local.get $top) (local.get $k) (local.get $at))
                (f64.load (call $topScore (local.get $top) (local.get $k) (i32.sub (local.get $at) (i32.const 1)))))
              (local.set $at (i32.sub (local.get $at) (i32.const 1)))
              (br $shift)))
          (i32.store (call $topDocument (local.get $top) (local.get $k) (local.get $at)) (local.get $document))
          (f64.store (call $topRelevance (local.get $top) (local.get $at)) (local.get $relevance))
          (f64.store (call $topScore (local.get $top) (local.get $k) (local.get $at)) (local.get $score))
          (if (i32.lt_u (local.get $count) (local.get $k))
            (then (local.set $count (i32.add (local.get $count) (i32.const 1)))))
          (local.set $threshold
            (if (result f64) (i32.eq (local.get $count) (local.get $k))
              (then (f64.load (call $topScore (local.get $top) (local.get $k) (i32.sub (local.get $k) (i32.const 1)))))
              (else (f64.const -inf)))))
        (local.set $from (i32.add (local.get $from) (i32.const 1)))
        (br_if $next (i32.lt_u (local.get $from) (local.get $to)))))
    (local.get $count))

  ;; The query-level loops below are what JavaScript calls, once per query each: V8 calls an export
  ;; through a generic wrapper until it has been called about 1,000 times, then compiles a wrapper
  ;; for it on the main thread (a 0.3 ms pause), so one call per term would pause a process's
  ;; 200th-odd query. $ranges holds (from, to) pairs of posting slots, one per term.

  ;; Term $term's first posting slot and the slot after its last, in $ranges.
  (func $rangeFrom (param $ranges i32) (param $term i32) (result i32)
    (i32.load (i32.add (local.get $ranges) (i32.shl (local.get $term) (i32.const 3)))))
  (func $rangeTo (param $ranges i32) (param $term i32) (result i32)
    (i32.load offset=4 (i32.add (local.get $ranges) (i32.shl (local.get $term) (i32.const 3)))))

  ;; addPostings for each of $count ranges, in order; each range's largest weight (f32) to $maxima.
  (func (export "addTerms")
    (param $documents i32) (param $weights i32) (param $scores i32) (param $ranges i32) (param $count i32) (param $maxima i32)
    (local $term i32)
    (block $done
      (br_if $done (i32.ge_u (local.get $term) (local.get $count)))
      (loop $next
        (f32.store (i32.add (local.get $maxima) (i32.shl (local.get $term) (i32.const 2)))
          (call $addPostings (local.get $documents) (local.get $weights) (local.get $scores)
            (call $rangeFrom (local.get $ranges) (local.get $term))
            (call $rangeTo (local.get $ranges) (local.get $term))))
        (local.set $term (i32.add (local.get $term) (i32.const 1)))
        (br_if $next (i32.lt_u (local.get $term) (local.get $count))))))

  ;; clearPostings for each of $count ranges.
  (func (export "clearTerms")
    (param $documents i32) (param $scores i32) (param $ranges i32) (param $count i32)
    (local $term i32)
    (block $done
      (br_if $done (i32.ge_u (local.get $term) (local.get $count)))
      (loop $next
        (call $clearPostings (local.get $documents) (local.get $scores)
          (call $rangeFrom (local.get $ranges) (local.get $term))
          (call $rangeTo (local.get $ranges) (local.get $term)))
        (local.set $term (i32.add (local.get $term) (i32.const 1)))
        (br_if $next (i32.lt_u (local.get $term) (local.get $count))))))

  ;; For scoring every match (Bm25Index.withScores): addPostings for each of $count ranges, also
  ;; listing each document the first time it is met (touched[found++] = d, marks[d] = 1), branch-
  ;; free as the JavaScript loop is ($touched has room for one more than the documents). $found
  ;; are listed at the start; returns how many are after.
  (func (export "addTermsListed")
    (param $documents i32) (param $weights i32) (param $scores i32) (param $marks i32) (param $touched i32)
    (param $ranges i32) (param $count i32) (param $found i32)
    (result i32)
    (local $term i32) (local $slot i32) (local $to i32) (local $document i32) (local $at i32)
    (block $done
      (br_if $done (i32.ge_u (local.get $term) (local.get $count)))
      (loop $nextTerm
        (local.set $slot (call $rangeFrom (local.get $ranges) (local.get $term)))
        (local.set $to (call $rangeTo (local.get $ranges) (local.get $term)))
        (block $termDone
          (br_if $termDone (i32.ge_u (local.get $slot) (local.get $to)))
          (loop $nextSlot
            (local.set $document (i32.load (i32.add (local.get $documents) (i32.shl (local.get $slot) (i32.const 2)))))
            (i32.store (i32.add (local.get $touched) (i32.shl (local.get $found) (i32.const 2))) (local.get $document))
            (local.set $found
              (i32.sub (i32.add (local.get $found) (i32.const 1)) (i32.load8_u (i32.add (local.get $marks) (local.get $document)))))
            (i32.store8 (i32.add (local.get $marks) (local.get $document)) (i32.const 1))
            (local.set $at (i32.add (local.get $scores) (i32.shl (local.get $document) (i32.const 3))))
            (f64.store (local.get $at)
              (f64.add (f64.load (local.get $at))
                (f64.promote_f32 (f32.load (i32.add (local.get $weights) (i32.shl (local.get $slot) (i32.const 2)))))))
            (local.set $slot (i32.add (local.get $slot) (i32.const 1)))
            (br_if $nextSlot (i32.lt_u (local.get $slot) (local.get $to)))))
        (local.set $term (i32.add (local.get $term) (i32.const 1)))
        (br_if $nextTerm (i32.lt_u (local.get $term) (local.get $count)))))
    (local.get $found))

  ;; Clears what addTermsListed added: scores and marks of the $count listed documents.
  (func (export "clearListed")
    (param $scores i32) (param $marks i32) (param $touched i32) (param $count i32)
    (local $i i32) (local $document i32)
    (block $done
      (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
      (loop $next
        (local.set $document (i32.load (i32.add (local.get $touched) (i32.shl (local.get $i) (i32.const 2)))))
        (f64.store (i32.add (local.get $scores) (i32.shl (local.get $document) (i32.const 3))) (f64.const 0))
        (i32.store8 (i32.add (local.get $marks) (local.get $document)) (i32.const 0))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $next (i32.lt_u (local.get $i) (local.get $count))))))

  ;; MaxScore's ranking: rankPostings for each of $count ranges (the query's distinct terms,
  ;; strongest first), until the top k is full and the most a document of the terms left can
  ;; score, $rest[i] (f64: their largest weights together) + $maxPrior, is below the k-th best
  ;; beyond rounding error (`below` in bm25-index.ts). $count entries are in the top at the start
  ;; ($filled); returns how many are after, and stores at $stopped 1 when the bound stopped it, else 0.
  (func (export "rankTerms")
    (param $documents i32) (param $scores i32) (param $stamps i32) (param $prior i32) (param $skip i32)
    (param $top i32) (param $k i32) (param $filled i32) (param $ranges i32) (param $rest i32) (param $count i32)
    (param $maxPrior f64) (param $stamp i32) (param $stopped i32)
    (result i32)
    (local $term i32) (local $best f64) (local $threshold f64)
    (i32.store (local.get $stopped) (i32.const 0))
    (block $done
      (br_if $done (i32.ge_u (local.get $term) (local.get $count)))
      (loop $next
        (local.set $filled
          (call $rankPostings (local.get $documents) (local.get $scores) (local.get $stamps) (local.get $prior) (local.get $skip)
            (local.get $top) (local.get $k) (local.get $filled)
            (call $rangeFrom (local.get $ranges) (local.get $term))
            (call $rangeTo (local.get $ranges) (local.get $term))
            (local.get $stamp)))
        (local.set $term (i32.add (local.get $term) (i32.const 1)))
        (if (i32.eq (local.get $filled) (local.get $k))
          (then
            (local.set $best (f64.add (f64.load (i32.add (local.get $rest) (i32.shl (i32.sub (local.get $term) (i32.const 1)) (i32.const 3)))) (local.get $maxPrior)))
            (local.set $threshold (f64.load (call $topScore (local.get $top) (local.get $k) (i32.sub (local.get $k) (i32.const 1)))))
            ;; best < threshold − 1e-9 · max(1, |threshold|)
            (if (f64.lt (local.get $best)
                  (f64.sub (local.get $threshold) (f64.mul (f64.const 1e-9) (f64.max (f64.const 1) (f64.abs (local.get $threshold))))))
              (then
                (i32.store (local.get $stopped) (i32.const 1))
                (br $done)))))
        (br_if $next (i32.lt_u (local.get $term) (local.get $count)))))
    (local.get $filled))

  ;; The first slot in [0, count) whose document is not in [0, documents), or -1: the load-time
  ;; check that every posting names a document that exists (a damaged file cannot write outside
  ;; the score buffer).
  (func (export "firstInvalidDocument")
    (param $documents i32) (param $count i32) (param $limit i32) (result i32)
    (local $slot i32)
    (block $done
      (br_if $done (i32.ge_u (local.get $slot) (local.get $count)))
      (loop $next
        ;; Unsigned: a negative document is above any limit.
        (if (i32.ge_u (i32.load (i32.add (local.get $documents) (i32.shl (local.get $slot) (i32.const 2)))) (local.get $limit))
          (then (return (local.get $slot))))
        (local.set $slot (i32.add (local.get $slot) (i32.const 1)))
        (br_if $next (i32.lt_u (local.get $slot) (local.get $count)))))
    (i32.const -1)))
