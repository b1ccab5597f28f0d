// xdfinfo loads an XDF file with libxdf (Debian's libxdf-dev, the C++
// loader behind the XDF tools) and prints, for each stream, its name,
// type, sample count (from the footer), the timestamps loaded, and the
// markers loaded (string streams go to libxdf's event map), tab-separated.
#include <xdf.h>
#include <iostream>
#include <map>

int main(int argc, char **argv) {
    if (argc != 2) {
        std::cerr << "usage: xdfinfo FILE.xdf\n";
        return 2;
    }
    Xdf x;
    if (x.load_xdf(argv[1]) != 0) {
        std::cerr << "libxdf could not load " << argv[1] << "\n";
        return 1;
    }
    std::map<int, int> events;
    for (auto &e : x.eventMap) events[e.second]++;
    for (size_t i = 0; i < x.streams.size(); i++) {
        auto &s = x.streams[i];
        std::cout << s.info.name << "\t" << s.info.type << "\t" << s.info.sample_count << "\t"
                  << s.time_stamps.size() << "\t" << events[(int)i] << "\n";
    }
    return 0;
}
