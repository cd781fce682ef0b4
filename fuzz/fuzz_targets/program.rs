//! The input of the P2P fuzz targets read as a little program, byte by byte.

pub struct Program<'a>(pub &'a [u8]);

impl<'a> Program<'a> {
    /// The next byte, if any.
    pub fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }

    /// The next byte, or 0 past the end.
    pub fn take(&mut self) -> u8 {
        self.byte().unwrap_or(0)
    }

    /// The next `n` bytes, or as many as are left.
    pub fn bytes(&mut self, n: usize) -> &'a [u8] {
        let (taken, rest) = self.0.split_at(n.min(self.0.len()));
        self.0 = rest;
        taken
    }
}
