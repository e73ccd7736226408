//! How much of the KV cache a call may keep without changing its answer.
//!
//! ggml's CPU kernels differ with the number of tokens in a batch (a dot
//! product per token for a few tokens, tiled matrix products for many), so
//! the keys and values of a token depend, in their last bits, on which
//! tokens were decoded in the same batch — enough to flip a sampled token
//! (seen on Gemma-3-270M with a 1000-token system message). So a prompt is
//! always decoded in the same chunks, fixed by the prompt alone: batches of
//! `batch_tokens` up to the end of the system message, then batches of
//! `batch_tokens` after it. A call reuses cached chunks only while they
//! are the very chunks a cold call would decode; what it decodes is then
//! exactly what a cold call decodes, and the answer is the same.

use llama_cpp_2::token::LlamaToken;

/// Where the chunks of a `len`-token prompt end, as any call decodes it:
/// every `batch` tokens from the start, and every `batch` tokens from
/// `system_end` (the end of the system message) on.
pub(crate) fn chunk_ends(len: usize, system_end: Option<usize>, batch: usize) -> Vec<usize> {
    let batch = batch.max(1);
    let mut ends = Vec::with_capacity(len / batch + 2);
    let mut start = 0;
    for stop in [system_end.filter(|&e| e > 0 && e < len), Some(len)].into_iter().flatten() {
        while start < stop {
            start = (start + batch).min(stop);
            ends.push(start);
        }
    }
    ends
}

/// How many leading tokens of `tokens` (to be decoded in chunks ending at
/// `plan`) can be kept from a cache holding `cached`, decoded in chunks
/// ending at `cached_ends`: the longest run of chunks that are the same in
/// both, within the tokens both share. The last prompt token is never
/// reused: its logits give the answer's first token.
pub(crate) fn reusable(cached: &[LlamaToken], cached_ends: &[usize], tokens: &[LlamaToken], plan: &[usize]) -> usize {
    let shared = cached.iter().zip(tokens).take_while(|(a, b)| a == b).count();
    let limit = shared.min(tokens.len().saturating_sub(1));
    cached_ends.iter().zip(plan).take_while(|(a, b)| a == b && **a <= limit).last().map_or(0, |(end, _)| *end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(ids: &[i32]) -> Vec<LlamaToken> {
        ids.iter().map(|&i| LlamaToken::new(i)).collect()
    }

    #[test]
    fn chunks_restart_at_the_end_of_the_system_message() {
        assert_eq!(chunk_ends(10, None, 4), [4, 8, 10]);
        assert_eq!(chunk_ends(10, Some(6), 4), [4, 6, 10]);
        assert_eq!(chunk_ends(12, Some(2), 4), [2, 6, 10, 12]);
        assert_eq!(chunk_ends(5, Some(5), 4), [4, 5]);
        assert_eq!(chunk_ends(0, None, 4), Vec::<usize>::new());
    }

    #[test]
    fn only_chunks_a_cold_call_would_decode_are_reused() {
        let old = tokens(&[1, 2, 3, 4, 5, 6, 7, 8]);
        let old_ends = [4, 6, 7, 8]; // prompt of 6 (system ends at 4), then 2 generated tokens
                                     // Same system message, another request: the system chunk is kept.
        let new = tokens(&[1, 2, 3, 4, 9, 9, 9]);
        assert_eq!(reusable(&old, &old_ends, &new, &chunk_ends(7, Some(4), 4)), 4);
        // The request shares a token more, but its chunk differs: still 4.
        let new = tokens(&[1, 2, 3, 4, 5, 9, 9]);
        assert_eq!(reusable(&old, &old_ends, &new, &chunk_ends(7, Some(4), 4)), 4);
        // A system message that ends elsewhere shares no chunk.
        assert_eq!(reusable(&old, &old_ends, &new, &chunk_ends(7, Some(3), 4)), 0);
        // The same prompt again: all but the last chunk (its last token must be decoded).
        let same = tokens(&[1, 2, 3, 4, 5, 6]);
        assert_eq!(reusable(&old, &old_ends, &same, &chunk_ends(6, Some(4), 4)), 4);
    }
}
