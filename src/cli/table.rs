//! Plain aligned tables for the terminal: `modhost list`, `modhost ctl status` and friends.

/// Rows under a header, columns two spaces apart, each as wide as its widest cell; the
/// columns in `right` are aligned right (numbers). Trailing spaces are trimmed.
pub fn render(header: &[&str], rows: &[Vec<String>], right: &[usize]) -> String {
    debug_assert!(
        rows.iter().all(|row| row.len() == header.len()),
        "every row has a cell under each of the {} headers",
        header.len()
    );
    let mut widths: Vec<usize> = header.iter().map(|cell| cell.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: &mut dyn Iterator<Item = &str>| {
        let mut text = String::new();
        for (column, (cell, width)) in cells.zip(&widths).enumerate() {
            if column > 0 {
                text.push_str("  ");
            }
            if right.contains(&column) {
                text.push_str(&format!("{cell:>width$}"));
            } else {
                text.push_str(&format!("{cell:<width$}"));
            }
        }
        text.trim_end().to_owned()
    };
    let mut out = line(&mut header.iter().copied());
    for row in rows {
        out.push('\n');
        out.push_str(&line(&mut row.iter().map(String::as_str)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_line_up() {
        let rows = vec![
            vec!["1".to_owned(), "core-lib".to_owned(), "ok".to_owned()],
            vec!["10".to_owned(), "x".to_owned(), String::new()],
        ];
        assert_eq!(
            render(&["#", "id", "state"], &rows, &[0]),
            " #  id        state\n 1  core-lib  ok\n10  x"
        );
    }
}
