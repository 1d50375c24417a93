//! The `spread` case's choice of partitions, from a seeded generator so that
//! every run commits the same segments.

/// A small deterministic generator (splitmix64) for the spread partitions.
#[derive(Debug)]
pub struct SplitMix(pub u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// `count` distinct partitions of `0..partitions`, sorted.
    pub fn partitions(&mut self, count: usize, partitions: i32) -> Vec<i32> {
        let mut chosen = Vec::with_capacity(count);
        while chosen.len() < count {
            let partition = (self.next() % partitions as u64) as i32;
            if !chosen.contains(&partition) {
                chosen.push(partition);
            }
        }
        chosen.sort_unstable();
        chosen
    }
}
