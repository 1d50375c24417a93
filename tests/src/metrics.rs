//! Reading values out of Prometheus text exposition.

/// Sums every sample of the metric `name` (all label sets) in Prometheus text format.
/// Returns `None` when the metric has no sample at all.
pub fn sum(text: &str, name: &str) -> Option<f64> {
    let mut total = None;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some(rest) = line.strip_prefix(name) else {
            continue;
        };
        // The name must end here: either labels follow or whitespace and the value.
        let rest = if let Some(labels) = rest.strip_prefix('{') {
            match labels.find('}') {
                Some(end) => &labels[end + 1..],
                None => continue,
            }
        } else if rest.starts_with(char::is_whitespace) {
            rest
        } else {
            continue;
        };
        let Some(value) = rest.split_whitespace().next() else {
            continue;
        };
        if let Ok(value) = value.parse::<f64>() {
            *total.get_or_insert(0.0) += value;
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::sum;

    #[test]
    fn sums_all_label_sets_and_ignores_longer_names() {
        let text = "# HELP floe_x_total x\n# TYPE floe_x_total counter\n\
                    floe_x_total{topic=\"a\"} 2\nfloe_x_total{topic=\"b\"} 3.5\n\
                    floe_x_total_other 100\nfloe_y 7\n";
        assert_eq!(sum(text, "floe_x_total"), Some(5.5));
        assert_eq!(sum(text, "floe_y"), Some(7.0));
        assert_eq!(sum(text, "floe_z"), None);
    }
}
