//! The `spread` case's choice of partitions, from a seeded generator so that
//! every run commits the same segments.

use rand::SeedableRng;
use rand::rngs::StdRng;

/// Picks the partitions of the spread commits.
#[derive(Debug)]
pub struct Spread(StdRng);

impl Spread {
    /// A generator that always picks the same sequence for `seed`.
    pub fn new(seed: u64) -> Self {
        Self(StdRng::seed_from_u64(seed))
    }

    /// `count` distinct partitions of `0..partitions` (`count` at most
    /// `partitions`), sorted.
    pub fn partitions(&mut self, count: usize, partitions: i32) -> Vec<i32> {
        let mut chosen = rand::seq::index::sample(&mut self.0, partitions as usize, count)
            .into_iter()
            .map(|p| p as i32)
            .collect::<Vec<_>>();
        chosen.sort_unstable();
        chosen
    }
}
