/* A schematic map of the 14 street offices of the demo district (中原区), west to the left
   and north to the top: rough neighbourhoods, not surveyed boundaries. Keyed by the street
   codes of data/gazetteer.yaml. Coordinates are abstract (x east, y north). */
(function () {
  "use strict";
  function box(x0, y0, x1, y1, skew) {
    var s = skew || 0;
    return [[[x0, y0], [x1, y0 + s], [x1, y1 + s], [x0, y1], [x0, y0]]];
  }
  window.MINSHENG_STREET_SHAPES = {
    XS:    box(0, 4, 2, 6, -0.1),    // 须水
    XLH:   box(2, 4, 4, 6, 0.1),     // 西流湖
    MFL:   box(4, 4.1, 6, 6, 0),     // 棉纺路
    LSZ:   box(6, 4.1, 8, 6, -0.1),  // 林山寨
    JSL:   box(8, 4, 10, 6, 0),      // 建设路
    LIANH: box(0, 2, 2, 4, 0),       // 莲湖
    ZYXL:  box(2, 2, 4, 4, 0.1),     // 中原西路
    QLL:   box(4, 2.1, 6, 4.1, 0),   // 秦岭路
    SGM:   box(6, 2.1, 8, 4.1, -0.1),// 三官庙
    TBL:   box(8, 2, 10, 4, 0),      // 桐柏路
    LIUH:  box(0, 0, 2, 2, 0),       // 柳湖
    HHXL:  box(2, 0, 6, 2.1, 0),     // 航海西路
    RHL:   box(6, 0, 8, 2.1, 0),     // 汝河路
    LDC:   box(8, 0, 10, 2, 0)       // 绿东村
  };
})();
