//! The exact binomial judge of a game's guesses: `k` correct guesses out of `n` rounds win when
//! a guesser with no advantage (each guess right with probability 1/2, independently) gets `k`
//! or more with probability below `2^-SIGNIFICANCE_BITS / G`, where `G` is the published cap on
//! games per challenge, so that even `G` random guessers win with probability below
//! `2^-SIGNIFICANCE_BITS` altogether (a union bound). In integers only:
//!
//! ```text
//! wins(k, n, G)  iff  2^20 · G · Σ_{i=k..n} C(n, i)  <  2^n
//! ```
//!
//! computed with arbitrary-precision integers, so no rounding can turn a loss into a win.

use core::fmt;

use num_bigint::BigUint;

/// The judge's significance: a random guesser wins with probability below `2^-20 / G`.
pub const SIGNIFICANCE_BITS: u32 = 20;
/// Most rounds a judged game may have.
pub const MAX_ROUNDS: u64 = 100_000;

/// Why the judge cannot answer.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ThresholdError {
    /// More correct guesses than rounds.
    CorrectAboveRounds {
        /// Correct guesses.
        correct: u64,
        /// Rounds.
        rounds: u64,
    },
    /// More rounds than [`MAX_ROUNDS`].
    TooManyRounds(u64),
    /// A cap of zero games per challenge.
    NoGames,
    /// An advantage that is not a fraction in `(0, 1/2]` (`num / den`).
    Advantage {
        /// Numerator.
        num: u64,
        /// Denominator.
        den: u64,
    },
}

impl fmt::Display for ThresholdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ThresholdError::CorrectAboveRounds { correct, rounds } => {
                write!(f, "{correct} correct guesses out of {rounds} rounds")
            }
            ThresholdError::TooManyRounds(n) => {
                write!(f, "{n} rounds, more than {MAX_ROUNDS}")
            }
            ThresholdError::NoGames => f.write_str("a cap of zero games"),
            ThresholdError::Advantage { num, den } => {
                write!(f, "an advantage of {num}/{den}, not in (0, 1/2]")
            }
        }
    }
}

impl std::error::Error for ThresholdError {}

fn check(rounds: u64, games_cap: u64) -> Result<(), ThresholdError> {
    if rounds > MAX_ROUNDS {
        return Err(ThresholdError::TooManyRounds(rounds));
    }
    if games_cap == 0 {
        return Err(ThresholdError::NoGames);
    }
    Ok(())
}

/// `2^20 · G`, the tail's factor.
fn factor(games_cap: u64) -> BigUint {
    BigUint::from(games_cap) << SIGNIFICANCE_BITS
}

/// The largest tail that wins at `rounds`: `F · tail < 2^rounds` iff
/// `tail <= (2^rounds - 1) / F` (integer division), so the loops compare without multiplying.
fn largest_winning_tail(rounds: u64, factor: &BigUint) -> BigUint {
    let one = BigUint::from(1u8);
    ((&one << rounds) - one) / factor
}

/// Whether `correct` correct guesses out of `rounds` win against a cap of `games_cap` games:
/// `2^20 · games_cap · Σ_{i >= correct} C(rounds, i) < 2^rounds`, exactly.
pub fn wins(correct: u64, rounds: u64, games_cap: u64) -> Result<bool, ThresholdError> {
    check(rounds, games_cap)?;
    if correct > rounds {
        return Err(ThresholdError::CorrectAboveRounds { correct, rounds });
    }
    // Σ_{i = correct..=rounds} C(rounds, i), from the top down:
    // C(n, i - 1) = C(n, i) · i / (n - i + 1), exact at every step.
    let mut c = BigUint::from(1u8);
    let mut tail = c.clone();
    for i in (correct + 1..=rounds).rev() {
        c = c * i / (rounds - i + 1);
        tail += &c;
    }
    Ok(factor(games_cap) * tail < BigUint::from(1u8) << rounds)
}

/// The smallest number of correct guesses out of `rounds` that wins against a cap of
/// `games_cap` games, or `None` if not even `rounds` correct guesses do (too few rounds).
/// From the top down, adding one binomial coefficient per step, so that the cost is that of
/// the tail it sums (`rounds = 100_000` takes about a second in a debug build).
pub fn min_correct(rounds: u64, games_cap: u64) -> Result<Option<u64>, ThresholdError> {
    check(rounds, games_cap)?;
    let bound = largest_winning_tail(rounds, &factor(games_cap));
    let mut c = BigUint::from(1u8); // C(rounds, k), for k = rounds first
    let mut tail = c.clone();
    let mut best = None;
    let mut k = rounds;
    loop {
        if tail > bound {
            return Ok(best);
        }
        best = Some(k);
        if k == 0 {
            return Ok(best);
        }
        // C(n, k - 1) = C(n, k) · k / (n - k + 1).
        c = c * k / (rounds - k + 1);
        k -= 1;
        tail += &c;
    }
}

/// Row `n` of Pascal's triangle cut at `k`, for a scan over `n`: `C(n, k)`, `C(n, k - 1)` and
/// the tail `T = Σ_{i >= k} C(n, i)`, with `k` kept at the row's [`min_correct`].
struct Cut {
    n: u64,
    k: u64,
    c_k: BigUint,
    c_before: BigUint,
    tail: BigUint,
}

impl Cut {
    /// Row `n` cut at `k = n`.
    fn top(n: u64) -> Self {
        Self {
            n,
            k: n,
            c_k: BigUint::from(1u8),
            c_before: BigUint::from(n),
            tail: BigUint::from(1u8),
        }
    }

    fn wins(&self, tail: &BigUint, factor: &BigUint) -> bool {
        factor * tail < BigUint::from(1u8) << self.n
    }

    /// Moves `k` to the row's smallest winning cut, from a winning cut.
    fn settle(&mut self, factor: &BigUint) {
        while self.k > 0 {
            let lower = &self.tail + &self.c_before;
            if !self.wins(&lower, factor) {
                break;
            }
            self.tail = lower;
            self.k -= 1;
            // C(n, k - 1) = C(n, k) · k / (n - k + 1), 0 below k = 0.
            let next = &self.c_before * self.k / (self.n - self.k + 1);
            self.c_k = core::mem::replace(&mut self.c_before, next);
        }
    }

    /// Row `n + 1` at the same `k`, then back up to a winning cut (the tail of row `n + 1`
    /// at `k` is `2 T + C(n, k - 1)`, by Pascal's rule): `T' = T(n + 1, k)`.
    fn next_row(&mut self, factor: &BigUint) {
        let (n, k) = (self.n, self.k);
        // C(n, k - 2) = C(n, k - 1) · (k - 1) / (n - k + 2), 0 for k < 2.
        let c_before2 = if k >= 2 {
            &self.c_before * (k - 1) / (n - k + 2)
        } else {
            BigUint::from(0u8)
        };
        self.tail = (&self.tail << 1u32) + &self.c_before;
        self.c_k = &self.c_k + &self.c_before;
        self.c_before = &self.c_before + c_before2;
        self.n = n + 1;
        // A tail that no longer wins moves up: T(k + 1) = T(k) - C(n, k).
        while !self.wins(&self.tail, factor) {
            self.tail -= &self.c_k;
            self.k += 1;
            let next = &self.c_k * (self.n - self.k + 1) / self.k;
            self.c_before = core::mem::replace(&mut self.c_k, next);
        }
        self.settle(factor);
    }
}

/// The rounds a guesser with advantage `num / den` (it guesses right with probability
/// `1/2 + num/den`) needs for its expected correct count to reach [`min_correct`]: the smallest
/// `n` with `(1/2 + num/den) · n >= min_correct(n, games_cap)`, i.e.
/// `n · (den + 2 num) >= 2 den · min_correct(n)`; `None` if none up to [`MAX_ROUNDS`]. The
/// condition is not monotone in `n` near its first `n` (`min_correct` moves by whole
/// guesses), so every `n` is tried, each row of Pascal's triangle from the one before.
pub fn rounds_for_advantage(
    num: u64,
    den: u64,
    games_cap: u64,
) -> Result<Option<u64>, ThresholdError> {
    if num == 0 || den == 0 || num.checked_mul(2).is_none_or(|twice| twice > den) {
        return Err(ThresholdError::Advantage { num, den });
    }
    check(0, games_cap)?;
    let factor = factor(games_cap);
    // The first row where all-correct wins: 2^n > F.
    let first = factor.bits();
    if first > MAX_ROUNDS {
        return Ok(None);
    }
    let mut cut = Cut::top(first);
    cut.settle(&factor);
    loop {
        let enough = u128::from(cut.n) * (u128::from(den) + 2 * u128::from(num))
            >= 2 * u128::from(den) * u128::from(cut.k);
        if enough {
            return Ok(Some(cut.n));
        }
        if cut.n >= MAX_ROUNDS {
            return Ok(None);
        }
        cut.next_row(&factor);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The defining inequality, computed independently: every coefficient from Pascal's
    /// triangle (small n) or from `binomial` directly.
    fn defining(correct: u64, rounds: u64, games_cap: u64) -> bool {
        let mut row = vec![BigUint::from(1u8)];
        for _ in 0..rounds {
            let mut next = vec![BigUint::from(1u8)];
            next.extend(row.windows(2).map(|w| &w[0] + &w[1]));
            next.push(BigUint::from(1u8));
            row = next;
        }
        let tail: BigUint = row[correct as usize..].iter().sum();
        (BigUint::from(games_cap) << 20u32) * tail < (BigUint::from(1u8) << rounds)
    }

    #[test]
    fn the_published_figures() {
        assert_eq!(min_correct(1_000, 1_000).unwrap(), Some(596));
        assert_eq!(min_correct(10_000, 1_000).unwrap(), Some(5_301));
        assert_eq!(rounds_for_advantage(1, 20, 1_000).unwrap(), Some(3_631));
        // The shortest win at G = 1000: 30 rounds, all right (2^20 · 1000 < 2^30).
        assert_eq!(min_correct(30, 1_000).unwrap(), Some(30));
        assert_eq!(min_correct(29, 1_000).unwrap(), None);
    }

    #[test]
    fn a_hundred_thousand_rounds() {
        assert_eq!(min_correct(100_000, 1_000).unwrap(), Some(50_951));
        assert!(wins(50_951, 100_000, 1_000).unwrap());
        assert!(!wins(50_950, 100_000, 1_000).unwrap());
    }

    #[test]
    fn the_boundary_against_the_definition() {
        for (rounds, games) in [(1_000, 1_000), (300, 1), (64, 7)] {
            let k = min_correct(rounds, games).unwrap().unwrap();
            assert!(wins(k, rounds, games).unwrap());
            assert!(!wins(k - 1, rounds, games).unwrap());
            assert!(defining(k, rounds, games), "{rounds} {games}");
            assert!(!defining(k - 1, rounds, games), "{rounds} {games}");
        }
        let k = min_correct(10_000, 1_000).unwrap().unwrap();
        assert!(wins(k, 10_000, 1_000).unwrap() && !wins(k - 1, 10_000, 1_000).unwrap());
        // An advantage of 0.05 expects (1/2 + 1/20) n correct: enough at 3631, not before.
        let expects = |n: u64| n * 22 >= 40 * min_correct(n, 1_000).unwrap().unwrap();
        assert!(expects(3_631));
        assert!(![3_000, 3_600, 3_629, 3_630].into_iter().any(expects));
        // Not monotone: 3632 does not expect enough, 3633 does.
        assert!(!expects(3_632) && expects(3_633));
    }

    /// Small n: the tail counted by enumerating every guess vector.
    #[test]
    fn small_rounds_by_enumeration() {
        for rounds in 0..=16u64 {
            for games in [1, 2, 3, 1_000] {
                let mut counts = vec![0u64; rounds as usize + 1];
                for v in 0u64..(1 << rounds) {
                    counts[v.count_ones() as usize] += 1;
                }
                let mut expected_min = None;
                for correct in 0..=rounds {
                    let tail: u64 = counts[correct as usize..].iter().sum();
                    let expected = (u128::from(games) << 20) * u128::from(tail) < 1u128 << rounds;
                    assert_eq!(wins(correct, rounds, games).unwrap(), expected);
                    if expected && expected_min.is_none() {
                        expected_min = Some(correct);
                    }
                }
                assert_eq!(min_correct(rounds, games).unwrap(), expected_min);
            }
        }
        // 2^20 · 1 · 1 < 2^21: 21 rounds all correct is the first win with one game.
        assert_eq!(min_correct(20, 1).unwrap(), None);
        assert_eq!(min_correct(21, 1).unwrap(), Some(21));
    }

    #[test]
    fn errors() {
        assert_eq!(
            wins(11, 10, 1),
            Err(ThresholdError::CorrectAboveRounds {
                correct: 11,
                rounds: 10
            })
        );
        assert_eq!(
            wins(1, MAX_ROUNDS + 1, 1),
            Err(ThresholdError::TooManyRounds(MAX_ROUNDS + 1))
        );
        assert_eq!(min_correct(10, 0), Err(ThresholdError::NoGames));
        assert_eq!(
            min_correct(MAX_ROUNDS + 1, 1),
            Err(ThresholdError::TooManyRounds(MAX_ROUNDS + 1))
        );
        for (num, den) in [(0, 1), (1, 0), (2, 3), (u64::MAX, u64::MAX)] {
            assert_eq!(
                rounds_for_advantage(num, den, 1),
                Err(ThresholdError::Advantage { num, den })
            );
        }
        assert_eq!(rounds_for_advantage(1, 20, 0), Err(ThresholdError::NoGames));
        // Against a plain scan of min_correct, where that is cheap.
        for (num, den, games) in [(1, 2, 1), (1, 4, 1), (1, 3, 5), (1, 8, 2), (3, 10, 1_000)] {
            let scan = (1..400).find(|&n| {
                min_correct(n, games)
                    .unwrap()
                    .is_some_and(|k| n * (den + 2 * num) >= 2 * den * k)
            });
            assert_eq!(
                rounds_for_advantage(num, den, games).unwrap(),
                scan,
                "{num}/{den}"
            );
        }
        assert_eq!(rounds_for_advantage(1, 2, 1).unwrap(), Some(21));
        assert!(ThresholdError::NoGames.to_string().contains("zero"));
    }
}
