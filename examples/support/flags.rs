//! Command-line flags, as the examples take them: `--flag value` or
//! `--flag=value`, and bare arguments.

/// One command-line argument, split into its flag and inline value.
pub struct Arg {
    /// The argument as given.
    pub text: String,
    /// The flag: the text before `=` for `--flag=value`, else the whole text.
    pub flag: String,
    inline: Option<String>,
}

impl Arg {
    pub fn new(text: String) -> Self {
        let (flag, inline) = match text.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => {
                (flag.to_string(), Some(value.to_string()))
            }
            _ => (text.clone(), None),
        };
        Arg { text, flag, inline }
    }

    /// The flag's value: the inline one, or the next argument of `rest`.
    pub fn value(&self, rest: &mut impl Iterator<Item = String>) -> Result<String, String> {
        self.inline
            .clone()
            .or_else(|| rest.next())
            .ok_or_else(|| format!("{} needs a value", self.flag))
    }
}
