"""Spanish cues of intent (Spain and Latin America): the patterns ``listening.intent`` looks for.

Patterns read lowercased text with accents folded ("están" is "estan"; ñ stays). Weights as in
``listening.intent.english``.
"""

from __future__ import annotations


def _alt(*options: str) -> str:
    return "(?:" + "|".join(options) + ")"


ES_NUM = _alt(
    r"\d+",
    "un",
    "una",
    "dos",
    "tres",
    "cuatro",
    "cinco",
    "seis",
    "siete",
    "ocho",
    "nueve",
    "diez",
    "once",
    "doce",
    "quince",
    "veinte",
    "treinta",
    "cuarenta",
    "media",
    "varios",
    "varias",
    "muchos",
    "muchas",
    "unos",
    "unas",
)
ES_UNIT = r"(?:minutos?|min|horas?|dias?|semanas?|mes|meses)"
ES_DAY = _alt(
    "lunes",
    "martes",
    "miercoles",
    "jueves",
    "viernes",
    "sabado",
    "domingo",
    "ayer",
    "anteayer",
    "esta manana",
    "anoche",
    "la semana pasada",
    "el mes pasado",
    r"el dia \d+",
    r"el \d+",
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
    "hace",
)
ES_NTH = _alt("segunda", "tercera", "cuarta", "quinta", "sexta", "septima", "enesima", r"\d+a")

COMPLAINT: list[tuple[str, float, str]] = [
    # Esperas.
    ("waiting", 1.0, rf"\bllev(?:o|amos|a|an) (?:ya )?(?:{ES_NUM} {ES_UNIT}|desde|toda la|todo el)"),
    (
        "waiting",
        1.0,
        rf"\b{ES_NUM} {ES_UNIT} (?:esperando|en espera|en la cola|sin|de retraso|y nada|y sigo|y sin|"
        rf"de espera|parad[oa]s|tarde)",
    ),
    (
        "waiting",
        1.0,
        r"\b(?:sigo|seguimos|sigue|siguen|todavia|aun|continuo|continua) [\"']?(?:sin|esperando|no\b|nada|igual|"
        r"pidiendo|cobrando|en preparacion|en reparto|pendiente|parad)",
    ),
    ("waiting", 0.5, r"\b(?:esperando|a la espera|en espera)\b"),
    ("waiting", 1.0, r"\bdia \d+ (?:sin|de|esperando)\b"),
    (
        "waiting",
        1.0,
        r"\bno (?:me )?(?:ha|han) llegado\b|\bno (?:me )?llega\b|\bno me llego\b|\bni rastro\b|"
        r"\bno ha (?:llegado|venido|aparecido)\b|\bno aparece\b",
    ),
    (
        "waiting",
        0.75,
        r"\b(?:tenia|tenian|debia|debian|iba|iban|tendria|tendrian|quedo|quedaron) (?:que|en|a) (?:venir|"
        r"llegar|llamar|estar|traer|entregar)",
    ),
    ("waiting", 0.75, r"\b(?:retraso|retrasado|retrasada|tarde nueve|tardan?|tardado|ni un solo dia)\b"),
    ("waiting", 0.5, r"\bhace (?:hora y media|media hora)\b"),
    ("waiting", 1.0, rf"\bhace {ES_NUM} {ES_UNIT} que\b"),
    (
        "waiting",
        0.5,
        rf"\bdesde {ES_DAY}\b|\bhace {ES_NUM} {ES_UNIT}\b|\b{ES_NUM} {ES_UNIT}\b(?= \w+ (?:parad|espera))",
    ),
    # Repetición.
    ("repetition", 1.0, rf"\bpor {ES_NTH} vez\b|\b{ES_NTH} vez (?:que|este|esta|en)\b|\bya van\b"),
    ("repetition", 1.0, r"\bsiempre (?:la misma|lo mismo|el mismo)\b|\bcada dia me dicen\b|\bcada vez que\b"),
    (
        "repetition",
        0.75,
        r"\botra vez\b|\bde nuevo\b|\buna vez mas\b|\bvuelven? a (?:cobrar|fallar|cortar|pasar)\b|"
        r"\b(?:\d+|dos|tres|cuatro|cinco|seis) veces\b",
    ),
    ("repetition", 0.5, r"\bcada (?:\d+|dos|tres|media|cinco|diez) (?:minutos|horas?|dias?)\b|\bla misma\b"),
    # Dinero.
    (
        "money",
        1.0,
        r"\b(?:cobrad[oa]s?|cobraron|cobro|cobra|cobran|cobrais|pasado|pasaron|cargad[oa]|cargaron|facturad[oa])"
        r"\b[^.!?]{0,30}?\b(?:dos veces|doble|por duplicado|de mas|otra vez)",
    ),
    ("money", 1.0, r"\b(?:cobro|cargo|pago|recibo) (?:doble|duplicado|indebido)|\bdoble (?:cobro|cargo)\b"),
    ("money", 1.0, r"\b(?:sigue|siguen|siguen|seguir) cobrando\b|\bme (?:sigue|siguen) cobrando\b"),
    ("money", 1.0, r"\bcobr\w*\b[^.!?]{0,50}?\b(?:aunque|despues de|a pesar|sin haber|y no|pero no)\b"),
    (
        "money",
        1.0,
        r"\b(?:donde|cuando) (?:esta|llega|veo) (?:mi|el) (?:reembolso|dinero|devolucion)\b|"
        r"\b(?:no|todavia no|aun no|sin) (?:veo|he recibido|me han devuelto|me devuelven|recibo) "
        r"(?:el|mi) (?:dinero|reembolso)\b|\b(?:sin|ni) reembolso\b",
    ),
    (
        "money",
        0.75,
        r"\bme (?:quiere|quieren) cobrar\b|\bme cobr\w+ \d+|\b(?:subido|suben|subieron|sube|subio) "
        r"(?:la tarifa|el precio|el seguro|la cuota|la factura|un \d+)|\b(?:el|la) (?:doble|triple) (?:que|de)\b|"
        r"\b\d+ euros mas\b|\bcambiado la tarifa\b",
    ),
    ("money", 0.5, r"\b(?:con|por|el|la) mism[oa] (?:consumo|uso|plan|servicio|pedido|tarifa|cesta)\b"),
    ("money", 0.5, r"\bun \d+ ?%|\bestimad[oa]\b"),
    ("money", 0.75, r"\b(?:recibo|factura|cuota) (?:que )?(?:esta|ya esta|estaba|ya) pagad[oa]\b"),
    ("money", 1.0, r"\b(?:me encanta|me chifla|que gusto) pagar \d"),
    ("money", 0.5, r"\bcomision\b|\bfactura\b[^.!?]{0,30}\b(?:mal|equivocada|de una casa)\b"),
    # Cosas que no funcionan.
    (
        "broken",
        1.0,
        r"\b(?:no|ya no|ni) (?:me )?(?:funciona|funcionan|enciende|carga|conecta|arranca|abre|deja|dejan|"
        r"responde|va\b(?! a))",
    ),
    ("broken", 1.0, r"\b(?:dejo|deja|dejado|dejaron) de funcionar\b|\bsin funcionar\b"),
    ("broken", 1.0, r"\b(?:se (?:reinicia|cierra|corta|cuelga|bloquea|apaga|desconecta|cae)|pierde agua)\b"),
    (
        "broken",
        1.0,
        r"\b(?:llego|llegaron|vino|vinieron|esta|estaba|ha llegado) (?:\w+ )?(?:rot[oa]s?|estropead[oa]s?|"
        r"danad[oa]s?|abiert[oa]|mojad[oa]|fri[oa]|equivocad[oa]|incomplet[oa])\b",
    ),
    (
        "broken",
        1.0,
        r"\bsin (?:luz|agua|internet|fibra|linea|cobertura|senal|conexion|telefono|calefaccion|aire|datos|"
        r"wifi|medicacion|bebida|ventana|dosis)\b|\bno (?:tenian|tienen|hay) (?:dosis|stock|sistema)\b",
    ),
    (
        "broken",
        1.0,
        r"\bde otra persona\b|\b(?:una?|dos|tres) \w+ (?:menos|de menos)\b|\bno consta\b|"
        r"\bno esta en el sistema\b|\bmarca \"?entregado",
    ),
    (
        "broken",
        1.0,
        r"\b(?:perdio|perdieron|han perdido|ha perdido|perder|dejo|dejaron|tiro|tiraron) (?:mi|el|la) "
        r"(?:maleta|paquete|pedido|equipaje|envio)\b",
    ),
    (
        "broken",
        1.0,
        r"\b(?:cortado|cortaron|cortar|cortan|corta) (?:el|la) (?:agua|luz|gas|linea|internet|telefono|"
        r"suministro)\b",
    ),
    (
        "broken",
        0.5,
        r"\b(?:rot[oa]|estropead[oa]|averiad[oa]|averia|averias|defectuos[oa]|gotea|fuga|error|fallo|lent[oa])\b",
    ),
    (
        "broken",
        0.5,
        r"\b(?:pedi|pido|reserve|compre)\b[^.!?]{0,40}\b(?:me llego|llego|me llega|nos dieron|me dieron)\b",
    ),
    # Nadie contesta.
    (
        "unanswered",
        1.0,
        r"\bnadie (?:me |nos )?(?:contesta|coge|responde|atiende|llama|sabe|viene|aparece|dice|ayuda)|"
        r"\bno (?:me |nos )?(?:contestan|contesta|cogen|coge|responden|responde|atienden|atiende|"
        r"llaman|llama|aparece)\b|\bsin (?:ninguna |ni una )?respuesta\b|\bni (?:una|un) (?:llamada|"
        r"correo|email|sms|respuesta|mensaje|vaso)\b",
    ),
    (
        "unanswered",
        1.0,
        r"\bno hay (?:manera|forma) de (?:hablar|contactar|contactaros|contactarles|que)\b|"
        r"\bintentando (?:contactar|llamar|hablar)\b",
    ),
    (
        "unanswered",
        1.0,
        r"\b(?:nunca|no) (?:lo |me )?(?:coge|cogen|contesta|contestan|responde|responden|atiende|atienden) "
        r"nadie\b",
    ),
    (
        "unanswered",
        0.75,
        r"\b(?:me|nos) (?:va|van) a (?:contestar|responder|llamar|atender|devolver)\b|"
        r"(?:^|[.!?]\s*)nadie[.!]|\bme (?:pasan|pasaron|van pasando) (?:con|de)\b|\b(?:la misma|una) "
        r"grabacion\b|\b(?:me dijeron|me dicen|dijeron|prometieron) que\b|\bintentando hablar\b|"
        r"\bni (?:se bajo|una explicacion)\b|\bsin ninguna explicacion\b",
    ),
    # Decepciones: sin avisar, cancelado, cambiado.
    (
        "let_down",
        1.0,
        r"\bsin (?:avisar|aviso|previo aviso|explicacion|motivo|consultar|preguntar)\b|\bme (?:han|ha) cancelado\b",
    ),
    (
        "let_down",
        1.0,
        r"\b(?:me|nos) (?:ha |han )?(?:bloqueado|cancelado|dejado tirad[oa]s?|perdido|quitado|separado|"
        r"cortado|denegado|rechazado|cerrado|bloquearon|cancelaron|quitaron|separaron|cortaron|cerraron|"
        r"rechazaron|denegaron|perdieron|perdio|dejo tirad[oa])\b",
    ),
    (
        "let_down",
        1.0,
        r"\b(?:dice|dicen|dijo|dijeron) que (?:intento|intentaron|ha intentado|han intentado) entregar\b",
    ),
    ("let_down", 0.75, r"\bse (?:dejaron|olvidaron|dejo|olvido)\b|\bestuve en casa\b"),
    (
        "let_down",
        0.75,
        r"\b(?:cancelad[oa]|cancelaron|cancelo|anulad[oa]|cambiado|cambiaron|cerrado)\b[^.!?]{0,20}\b"
        r"(?:el|mi|la) (?:vuelo|pedido|reserva|cita|fecha|tarifa|piscina)\b|\bnos dieron una\b|"
        r"\b(?:cambiado|cambio) la fecha\b",
    ),
    ("let_down", 0.5, r"\b(?:dice|dicen|marca|pone|aparece|asegura|aseguran) que\b"),
    # Exigencias y abandono.
    (
        "demand",
        1.0,
        r"\b(?:quiero|exijo|queremos) (?:mi dinero|el reembolso|mi reembolso|una solucion|hablar con|"
        r"la hoja de reclamaciones|que me devuelvan)|\bno vuelvo\b|\bno volvere\b|\bnunca mas\b|"
        r"\b(?:solucionen|arreglen|resuelvan)(?:lo)?\b|\bgracias por nada\b|\bun detallazo\b|"
        r"\btomadura de pelo\b|\bde risa\b|\b(?:puse|he puesto|pondre|abri|he abierto) una reclamacion\b|"
        r"\bhoja de reclamaciones\b",
    ),
    (
        "demand",
        0.75,
        r"\bes normal que\b|\bcomo es posible\b|\bexplicarme por que\b|\bpor que me (?:cobran|llega|han|"
        r"cobrais|habeis|cobra)\b|\bpor que\b[^.!?]{0,40}\b(?:mi|me)\b",
    ),
]

QUESTION: list[tuple[str, float, str]] = [
    ("question", 1.0, r"[?¿]"),
    (
        "question",
        1.0,
        r"\b(?:alguien sabe|sabeis si|saben si|sabe alguien|una pregunta|me podeis decir|me pueden decir|"
        r"me podrian decir|queria saber|quisiera saber|alguien ha probado|como puedo|como se)\b",
    ),
]

PRAISE: list[tuple[str, float, str]] = [
    ("thanks", 1.0, r"\b(?:gracias|mil gracias|muchas gracias|agradecid[oa]s?|enhorabuena|chapo|bravo)\b"),
    (
        "praise",
        1.5,
        r"\bnunca (?:he|hemos) tenido (?:un|ningun|ni un) problema\b|\bsin pegas\b|\bnada que objetar\b|"
        r"\bsin papeleos\b|\bno lo cambio\b",
    ),
    (
        "praise",
        1.0,
        r"\b(?:de diez|un diez|de 10|un 10|bien hecho|asi da gusto|asi si|un encanto|majisim[oa]s?|"
        r"encantador[ae]?s?|espectacular|precios[oa]|recomiendo|recomendable|el mejor|la mejor|lo mejor|"
        r"de verdad|de lujo|"
        r"un detalle|puntuales?|muy amables?|amabilisim[oa]|por fin|me encanta|me encantan|genial|"
        r"perfect[oa]|maravilla|vale la pena|merece la pena)\b",
    ),
    (
        "solved",
        1.5,
        r"\b(?:resolvio|resolvieron|solucionaron|soluciono|arreglaron|arreglo|devolvio|devolvieron|pago|"
        r"pagaron|cambio|cambiaron|monto|montaron|resuelto|solucionado|arreglado|subieron|ayudo)\b"
        r"[^.!?]{0,50}?\b(?:en (?:una|un|dos|tres|cuatro|cinco|\d+|media|el mismo) ?(?:sola )?(?:llamada|"
        r"manana|dia|dias|minutos|hora|horas|momento|tarde)|el mismo dia|al momento|enseguida|gratis|"
        r"sin coste|sin pegas)",
    ),
    (
        "solved",
        1.5,
        r"\b(?:en (?:\d+|dos|cinco|media|un|una) (?:minutos|hora|horas|momento) (?:resuelto|solucionado))\b|"
        r"\bya tenia el dinero\b|\bantes de hora\b|\bsin coste extra\b|\bmas trenes\b",
    ),
    (
        "solved",
        1.5,
        r"\b(?:gracias|agradecid[oa]s?)\b[^.!?]{0,30}\bpor (?:venir|arreglar|solucionar|resolver|ayudar|"
        r"devolver|atender|avisar|cambiar|la ayuda)\b",
    ),
]

SARCASM = [
    r"(?:^|[.!?]\s*)(?:que maravilla|genial|muy bonito|enhorabuena|gracias|estupendo|fantastico|perfecto|de lujo|ole|"
    r"bravo|fenomenal)\b",
    r"\b(?:gracias|enhorabuena|me encanta|genial)\b[^.!?]{0,30}\b(?:por|pagar|lo de)\b(?! (?:venir|arreglar|"
    r"solucionar|resolver|ayudar|devolver|atender|avisar|la ayuda|todo|vuestra|tu|su)\b)",
    r"\bun detallazo\b",
]

STORY = {
    "person": r"\b(?:me|mi|mis|nos|nuestro|nuestra|nuestros|nuestras|yo|conmigo)\b",
    "service": r"\b(?:pedido|paquete|envio|entrega|factura|recibo|recibos|cuenta|tarjeta|app|web|atencion|servicio|"
    r"repartidor|tecnico|reserva|vuelo|tren|autobus|barco|reembolso|pago|cobro|cuota|tarifa|"
    r"suscripcion|contrato|tienda|personal|agente|telefono|chat|incidencia|siniestro|poliza|seguro|"
    r"cita|contador|router|conexion|fibra|linea|comision|precio|cobertura|habitacion|hotel|coche|"
    r"taxi|taxista|asiento|asientos|maleta|receta|medicamento|farmacia|banco|luz|gas|agua|billete|"
    r"clase|clases|ducha|duchas|transferencia|sesion|codigo|servidor|frenos|taller|perito|"
    r"compra|cajas|bolsas|ticket|tiquet|docena|chaqueta|mancha|talla|caja)\b",
    "marks": [
        r"\b(?:no|nunca|nadie|nada|ni|sin|tampoco|ningun[oa]?)\b",
        r"\b(?:pero|aunque|a pesar|sin embargo|encima|en vez de|en lugar de|y eso que|todavia|aun|mientras)\b",
        r"€\s?\d|\b\d+(?:[.,]\d+)?\s?(?:€|euros?|%)|\b\d+\s?(?:minutos?|horas?|dias?|semanas?|meses|segundos?)\b|"
        r"\blas \d{1,2}(?::\d\d)?\b|\b(?:una?|dos|tres|cuatro|cinco|seis|diez|quince|media) (?:dias?|semanas?|"
        r"mes|meses|horas?|minutos)\b",
        r"\b(?:equivocad[oa]s?|incorrect[oa]|perdid[oa]s?|tarde|retraso|cancelad[oa]s?|rot[oa]s?|partid[oa]|"
        r"caducad[oa]s?|estropead[oa]s?|mancha|ruido|suenan|bloquead[oa]|cerrad[oa]|rechazad[oa]|denegad[oa]|"
        r"cortad[oa]|cortado|doble|triple|suplemento|recargo|multa|error|fallo|problema|incidencia|"
        r"vueltas|faltaba|falta|faltan|otra|revision|impago|quitado|separado|tirado|cerro|cancelo|perdio|"
        r"vendio|cobraron|cobro|cobrarme|la mitad|olvidaron|dejaron)\b",
    ],
}
