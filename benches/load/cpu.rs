//! CPU time of the run, split between the client and the server, which share
//! one process: `getrusage` of the process (every thread, dead ones too) and
//! `/proc/self/task/*/stat` of the client's threads, read while they live.
//! The server's share is the rest (the main thread only waits).

use std::time::Duration;

/// CPU time used so far: (user, system).
#[derive(Clone, Copy, Debug, Default)]
pub struct Cpu {
    pub user: Duration,
    pub system: Duration,
}

impl Cpu {
    pub fn total(&self) -> Duration {
        self.user + self.system
    }

    /// What was used between `earlier` and `self`.
    pub fn since(&self, earlier: Cpu) -> Cpu {
        Cpu {
            user: self.user.saturating_sub(earlier.user),
            system: self.system.saturating_sub(earlier.system),
        }
    }
}

/// The whole process, every thread that ever ran.
pub fn process() -> Cpu {
    // SAFETY: `getrusage` fills the zeroed struct it is given.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        if libc::getrusage(libc::RUSAGE_SELF, &mut usage) != 0 {
            return Cpu::default();
        }
        usage
    };
    let time = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    Cpu {
        user: time(usage.ru_utime),
        system: time(usage.ru_stime),
    }
}

/// The live threads of this process whose name starts with `prefix`
/// (Linux; zero elsewhere). In clock ticks, so to 10 ms.
pub fn threads(prefix: &str) -> Cpu {
    // SAFETY: `sysconf` has no preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    // Linux keeps 15 bytes of a thread's name.
    let prefix = &prefix[..prefix.len().min(15)];
    let mut cpu = Cpu::default();
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return cpu;
    };
    for task in tasks.flatten() {
        let dir = task.path();
        let name = std::fs::read_to_string(dir.join("comm")).unwrap_or_default();
        if !name.starts_with(prefix) {
            continue;
        }
        let Ok(stat) = std::fs::read_to_string(dir.join("stat")) else {
            continue;
        };
        // After the `(comm)` field: state is field 3, utime 14, stime 15.
        let Some((_, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let field = |i: usize| fields.get(i - 3).and_then(|f| f.parse::<f64>().ok());
        if let (Some(user), Some(system)) = (field(14), field(15)) {
            cpu.user += Duration::from_secs_f64(user / ticks);
            cpu.system += Duration::from_secs_f64(system / ticks);
        }
    }
    cpu
}
