//! Data libpurple holds a pointer to until the user answers a request: owned by the connection
//! state (never leaked), keyed by that pointer. `close` closes the connection's requests
//! before freeing it, so no answer can arrive for freed data.

use std::cell::RefCell;
use std::collections::HashMap;
use std::ffi::c_void;

/// The answers still awaited, of one kind, for one connection.
pub(crate) struct Held<T>(RefCell<HashMap<usize, Box<T>>>);

impl<T> Default for Held<T> {
    fn default() -> Self {
        Held(RefCell::new(HashMap::new()))
    }
}

impl<T> Held<T> {
    /// Keeps `value` and returns the pointer to hand to libpurple as the callbacks' data.
    pub(crate) fn hold(&self, value: T) -> *mut c_void {
        let boxed = Box::new(value);
        let data = &*boxed as *const T as *mut c_void;
        self.0.borrow_mut().insert(data as usize, boxed);
        data
    }

    /// Takes back what `hold` returned `data` for (`None` if already answered).
    pub(crate) fn take(&self, data: *mut c_void) -> Option<Box<T>> {
        self.0.borrow_mut().remove(&(data as usize))
    }
}
